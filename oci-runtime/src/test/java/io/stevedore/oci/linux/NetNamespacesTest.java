package io.stevedore.oci.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link NetNamespaces} against this process's own namespace; see NetNamespacesIT for a pod's. */
class NetNamespacesTest {
    @TempDir
    Path tmp;

    @Test
    void openTcp_missingPin_isEnoentNamingIt() {
        Path pin = tmp.resolve("no-such-netns");
        var e = assertThrows(SyscallException.class, () -> NetNamespaces.openTcp(pin, StandardProtocolFamily.INET));
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().contains(pin.toString()), e.getMessage());
    }

    @Test
    void openTcp_ownNamespace_connectsToAListenerHere() throws Exception {
        assumeTrue(root(), "setns needs CAP_SYS_ADMIN");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.INET)
                        .bind(new InetSocketAddress("127.0.0.1", 0));
                SocketChannel c = NetNamespaces.openTcp(Path.of("/proc/self/ns/net"), StandardProtocolFamily.INET)) {
            assertTrue(c.isOpen() && !c.isConnected() && c.isBlocking());
            c.connect(server.getLocalAddress());
            try (SocketChannel accepted = server.accept()) {
                c.write(ByteBuffer.wrap(new byte[] {42}));
                ByteBuffer b = ByteBuffer.allocate(1);
                accepted.read(b);
                assertEquals(42, b.get(0));
            }
        }
    }

    @Test
    void openIn_runsTheOpenerOnAFreshPlatformThread_evenForAVirtualCaller() throws Exception {
        assumeTrue(root(), "setns needs CAP_SYS_ADMIN");
        AtomicReference<Thread> opener = new AtomicReference<>();
        CompletableFuture<Thread> caller = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (SocketChannel c = NetNamespaces.openIn(Path.of("/proc/self/ns/net"), () -> {
                opener.set(Thread.currentThread());
                return SocketChannel.open();
            })) {
                caller.complete(Thread.currentThread());
            } catch (Throwable t) {
                caller.completeExceptionally(t);
            }
        });
        Thread c = caller.get();
        assertTrue(c.isVirtual());
        assertFalse(opener.get().isVirtual());
        assertNotSame(c, opener.get());
        opener.get().join(); // single use: it has ended
    }

    @Test
    void openIn_openerFailure_isReportedWithThePin_andTheThreadStillReturns() throws Exception {
        assumeTrue(root(), "setns needs CAP_SYS_ADMIN");
        String before =
                Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString();
        var e = assertThrows(
                IOException.class,
                () -> NetNamespaces.openIn(Path.of("/proc/self/ns/net"), () -> {
                    throw new IOException("no sockets today");
                }));
        assertTrue(
                e.getMessage().contains("/proc/self/ns/net") && e.getMessage().contains("no sockets today"),
                e.getMessage());
        assertEquals(
                before,
                Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString(),
                "caller untouched");
    }

    @Test
    void openTcp_pinThatIsNotANetworkNamespace_isEinval() throws Exception {
        assumeTrue(root(), "setns needs CAP_SYS_ADMIN");
        Path uts = Path.of("/proc/self/ns/uts");
        var e = assertThrows(SyscallException.class, () -> NetNamespaces.openTcp(uts, StandardProtocolFamily.INET));
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().contains(uts.toString()), e.getMessage());
    }

    static boolean root() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .anyMatch(l -> l.startsWith("Uid:") && l.split("\\s+")[1].equals("0"));
        } catch (IOException e) {
            return false;
        }
    }
}

package io.stevedore.oci.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * {@link NetNamespaces} with a real network namespace, made with {@code ip netns add} as a CNI
 * plugin pins a pod's: a listener on the namespace's {@code 127.0.0.1} is reachable through
 * {@link NetNamespaces#openTcp} and not from the host's. Needs root and iproute2's {@code ip}. Each
 * test deletes its namespace ({@code ip netns del}); {@code ip} itself leaves {@code /run/netns}
 * behind as a shared mount point, as it always does.
 */
@Tag("root")
@EnabledIf("rootWithIp")
class NetNamespacesIT {
    private String name;
    private Path pin;

    static boolean rootWithIp() {
        return NetNamespacesTest.root()
                && Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                        .filter(d -> !d.isEmpty())
                        .anyMatch(d -> Files.isExecutable(Path.of(d, "ip")));
    }

    @BeforeEach
    void addNamespace() throws Exception {
        name = "sd-nstest-" + UUID.randomUUID().toString().substring(0, 8);
        ip("netns", "add", name);
        pin = Path.of("/var/run/netns", name);
        ip("-n", name, "link", "set", "lo", "up");
    }

    @AfterEach
    void deleteNamespace() throws Exception {
        if (pin != null && Files.exists(pin)) {
            ip("netns", "del", name);
        }
        assertFalse(Files.exists(pin), "pin removed");
    }

    @Test
    void openTcp_reachesALoopbackListenerInsideTheNamespace_theHostsLoopbackDoesNot() throws Exception {
        exchangeThenRefusedOnTheHost(StandardProtocolFamily.INET, InetAddress.getByName("127.0.0.1"));
    }

    @Test
    void openTcp_ipv6Loopback() throws Exception {
        String addrs = ip("-n", name, "-6", "addr", "show", "dev", "lo");
        assumeTrue(addrs.contains("::1/128"), "no IPv6 in the namespace");
        exchangeThenRefusedOnTheHost(StandardProtocolFamily.INET6, InetAddress.getByName("::1"));
    }

    @Test
    void openIn_runsTheOpenerInThePinnedNamespace_andLeavesTheCallerInItsOwn() throws Exception {
        String callerBefore = currentThreadsNetns();
        AtomicReference<String> openerNetns = new AtomicReference<>();
        try (SocketChannel c = NetNamespaces.openIn(pin, () -> {
            openerNetns.set(currentThreadsNetns());
            return SocketChannel.open(StandardProtocolFamily.INET);
        })) {
            long pinInode = (long) Files.getAttribute(pin, "unix:ino");
            assertEquals("net:[" + pinInode + "]", openerNetns.get());
            assertEquals(callerBefore, currentThreadsNetns());
            assertFalse(callerBefore.equals(openerNetns.get()));
        }
    }

    @Test
    void openTcp_regularFileAsPin_isEinvalNamingIt() throws Exception {
        Path notANamespace = Files.createTempFile("sd-nstest", ".pin");
        try {
            var e = assertThrows(
                    SyscallException.class, () -> NetNamespaces.openTcp(notANamespace, StandardProtocolFamily.INET));
            assertEquals(Errno.EINVAL, e.errno());
            assertTrue(e.getMessage().contains(notANamespace.toString()), e.getMessage());
        } finally {
            Files.delete(notANamespace);
        }
    }

    @Test
    void openTcp_deletedNamespace_isEnoent() throws Exception {
        ip("netns", "del", name);
        var e = assertThrows(SyscallException.class, () -> NetNamespaces.openTcp(pin, StandardProtocolFamily.INET));
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().contains(pin.toString()), e.getMessage());
    }

    private void exchangeThenRefusedOnTheHost(StandardProtocolFamily family, InetAddress loopback) throws Exception {
        try (ServerSocketChannel server = NetNamespaces.openIn(pin, () -> ServerSocketChannel.open(family))) {
            server.bind(new InetSocketAddress(loopback, 0)); // bind and listen work from any thread
            InetSocketAddress listening = (InetSocketAddress) server.getLocalAddress();

            try (SocketChannel client = NetNamespaces.openTcp(pin, family)) {
                client.connect(listening);
                try (SocketChannel accepted = server.accept()) {
                    client.write(ByteBuffer.wrap("ping".getBytes(StandardCharsets.UTF_8)));
                    assertEquals("ping", readExactly(accepted, 4));
                    accepted.write(ByteBuffer.wrap("pong".getBytes(StandardCharsets.UTF_8)));
                    assertEquals("pong", readExactly(client, 4));
                }
            }

            // Same address and port from the host's namespace: nobody listens there.
            try (SocketChannel host = SocketChannel.open(family)) {
                assertThrows(ConnectException.class, () -> host.connect(listening));
            }
            server.configureBlocking(false);
            assertNull(server.accept(), "the namespace's listener saw no second connection");
        }
    }

    private static String readExactly(SocketChannel c, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (c.read(b) < 0) {
                throw new IOException("end of stream after " + b.position() + " bytes");
            }
        }
        return new String(b.array(), StandardCharsets.UTF_8);
    }

    private static String currentThreadsNetns() throws IOException {
        return Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString();
    }

    private static String ip(String... args) throws Exception {
        List<String> cmd = Stream.concat(Stream.of("ip"), Stream.of(args)).toList();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int rc = p.waitFor();
        if (rc != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " exited " + rc + ": " + out);
        }
        return out;
    }
}

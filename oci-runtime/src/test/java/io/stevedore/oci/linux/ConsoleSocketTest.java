package io.stevedore.oci.linux;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 20, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ConsoleSocketTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path tmp;

    @Test
    void bind_makesASocketFileOnlyItsOwnerMayUse() throws Exception {
        Path p = tmp.resolve("console.sock");
        try (ConsoleSocket cs = ConsoleSocket.bind(p)) {
            assertEquals(p, cs.path());
            assertTrue(
                    Files.readAttributes(
                                    p, java.nio.file.attribute.BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                            .isOther(),
                    "a socket");
            assertEquals(0140600, (int) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 0177777);
        }
        assertFalse(Files.exists(p, LinkOption.NOFOLLOW_LINKS), "unlinked on close");
    }

    @Test
    void bind_relativePath_isMadeAbsolute() throws Exception {
        Path rel = Path.of("").toAbsolutePath().relativize(tmp.resolve("c.sock"));
        try (ConsoleSocket cs = ConsoleSocket.bind(rel)) {
            assertTrue(cs.path().isAbsolute(), cs.path().toString());
            assertTrue(Files.isSameFile(tmp.resolve("c.sock"), cs.path()));
        }
    }

    @Test
    void bind_pathLongerThanSunPath_isEnametoolong_andCreatesNothing() throws Exception {
        Path p = tmp.resolve("x".repeat(Math.max(1, 108 - tmp.toString().length())));
        var e = assertThrows(SyscallException.class, () -> ConsoleSocket.bind(p));
        assertEquals(Errno.ENAMETOOLONG, e.errno());
        assertTrue(e.getMessage().contains("at most 107 bytes"), e.getMessage());
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
        assertFalse(Files.exists(p, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void bind_pathOf107Bytes_fits() throws Exception {
        Path p = tmp.resolve("y".repeat(107 - tmp.toString().length() - 1));
        assertEquals(107, p.toString().length());
        try (ConsoleSocket cs = ConsoleSocket.bind(p)) {
            assertTrue(Files.exists(cs.path(), LinkOption.NOFOLLOW_LINKS));
        }
    }

    @Test
    void bind_somethingAlreadyThere_isEaddrinuse_andLeavesItAlone() throws Exception {
        Path p = Files.writeString(tmp.resolve("taken"), "mine");
        var e = assertThrows(SyscallException.class, () -> ConsoleSocket.bind(p));
        assertEquals(Errno.EADDRINUSE, e.errno());
        assertEquals("mine", Files.readString(p));
    }

    @Test
    void receiveMaster_getsThePtyRuncSends_closeOnExec() throws Throwable {
        PtyPair pair = PtyMaster.openPair();
        int slave = TestFds.openSlave(pair.slave());
        try (ConsoleSocket cs = ConsoleSocket.bind(tmp.resolve("console.sock"))) {
            // runc sends the terminal's name with the descriptor, in one message.
            int conn = TestFds.connectAndSend(
                    cs.path(),
                    "/dev/ptmx".getBytes(StandardCharsets.UTF_8),
                    pair.master().fd());
            pair.master().close(); // ours is a duplicate: the terminal lives on
            int fd = cs.receiveMaster(WAIT);
            Libc.rawClose(conn);
            assertTrue(TestFds.cloexec(fd), "MSG_CMSG_CLOEXEC");
            try (PtyMaster received = new PtyMaster(fd)) {
                TestFds.writeAll(slave, "it's me".getBytes(StandardCharsets.UTF_8));
                byte[] buf = new byte[64];
                int n = received.read(buf, 0, buf.length);
                assertEquals("it's me", new String(buf, 0, n, StandardCharsets.UTF_8));
            }
        } finally {
            Libc.rawClose(slave);
        }
    }

    @Test
    void receiveMaster_oneBytePayload_andExtraDescriptorsAreClosed() throws Throwable {
        Path first = Files.writeString(tmp.resolve("first"), "x");
        Path second = Files.writeString(tmp.resolve("second"), "y");
        int a = Libc.open(first.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC, null);
        int b = Libc.open(second.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC, null);
        try (ConsoleSocket cs = ConsoleSocket.bind(tmp.resolve("console.sock"))) {
            int conn = TestFds.connectAndSend(cs.path(), new byte[] {0}, a, b);
            int fd = cs.receiveMaster(WAIT);
            try {
                assertEquals(first.toString(), TestFds.target(fd));
                assertEquals(1, openFdsOn(second), "only our own: the received duplicate was closed");
            } finally {
                Libc.rawClose(fd);
                Libc.rawClose(conn);
            }
        } finally {
            Libc.rawClose(a);
            Libc.rawClose(b);
        }
    }

    @Test
    void receiveMaster_noConnection_timesOut() throws Exception {
        try (ConsoleSocket cs = ConsoleSocket.bind(tmp.resolve("console.sock"))) {
            long start = System.nanoTime();
            var e = assertThrows(TimeoutException.class, () -> cs.receiveMaster(Duration.ofMillis(200)));
            assertTrue(System.nanoTime() - start >= 200_000_000L, "waited the whole timeout");
            assertTrue(e.getMessage().contains(cs.path().toString()), e.getMessage());
        }
    }

    @Test
    void receiveMaster_peerConnectsButSendsNothing_timesOut() throws Throwable {
        try (ConsoleSocket cs = ConsoleSocket.bind(tmp.resolve("console.sock"))) {
            int conn = TestFds.connectAndSend(cs.path(), new byte[0]);
            try {
                assertThrows(TimeoutException.class, () -> cs.receiveMaster(Duration.ofMillis(200)));
            } finally {
                Libc.rawClose(conn);
            }
        }
    }

    @Test
    void receiveMaster_peerClosesWithoutADescriptor_isEproto() throws Throwable {
        try (ConsoleSocket cs = ConsoleSocket.bind(tmp.resolve("console.sock"))) {
            int conn = TestFds.connectAndSend(cs.path(), "no fd".getBytes(StandardCharsets.UTF_8));
            Libc.rawClose(conn);
            var e = assertThrows(SyscallException.class, () -> cs.receiveMaster(WAIT));
            assertEquals(Errno.EPROTO, e.errno());
        }
    }

    @Test
    void close_whileAnotherThreadWaits_endsTheWaitWithEbadf() throws Exception {
        ConsoleSocket cs = ConsoleSocket.bind(tmp.resolve("console.sock"));
        CompletableFuture<Integer> got = new CompletableFuture<>();
        Thread.ofPlatform().name("console-recv-t").start(() -> {
            try {
                got.complete(cs.receiveMaster(Duration.ofMinutes(5)));
            } catch (Throwable t) {
                got.completeExceptionally(t);
            }
        });
        await().atMost(WAIT).until(() -> cs.activeCalls() == 1 && TestFds.sleeping("console-recv-t"));

        cs.close();
        cs.close();

        var e = assertThrows(ExecutionException.class, () -> got.get(5, TimeUnit.SECONDS));
        assertEquals(Errno.EBADF, ((SyscallException) e.getCause()).errno());
        assertFalse(Files.exists(cs.path(), LinkOption.NOFOLLOW_LINKS));
        var after = assertThrows(SyscallException.class, () -> cs.receiveMaster(WAIT));
        assertEquals(Errno.EBADF, after.errno());
    }

    private static long openFdsOn(Path file) throws java.io.IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.filter(fd -> {
                        try {
                            return Files.readSymbolicLink(fd).equals(file);
                        } catch (java.io.IOException e) {
                            return false; // closed meanwhile, or the listing's own descriptor
                        }
                    })
                    .count();
        }
    }
}

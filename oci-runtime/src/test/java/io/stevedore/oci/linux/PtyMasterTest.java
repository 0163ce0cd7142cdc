package io.stevedore.oci.linux;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

// A hang here would be a blocked native read: fail from a separate thread instead of waiting forever.
@Timeout(value = 20, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PtyMasterTest {
    private PtyMaster master;
    private Path slavePath;
    private int slave = -1;

    @BeforeEach
    void open() throws Exception {
        PtyPair pair = PtyMaster.openPair();
        master = pair.master();
        slavePath = pair.slave();
    }

    @AfterEach
    void close() {
        master.close();
        if (slave >= 0) {
            Libc.rawClose(slave);
        }
    }

    @Test
    void openPair_slaveIsADevptsNode_masterIsCloseOnExec() {
        assertTrue(slavePath.startsWith("/dev/pts/"), slavePath.toString());
        assertTrue(Files.exists(slavePath));
        assertTrue(TestFds.cloexec(master.fd()), "O_CLOEXEC");
    }

    @Test
    void read_returnsWhatTheSlaveWrote_withTheTerminalsNewlineMapping() throws Exception {
        slave = TestFds.openSlave(slavePath);
        TestFds.writeAll(slave, "hello\n".getBytes(StandardCharsets.UTF_8));
        assertEquals("hello\r\n", readFromMaster(7)); // ONLCR is on by default
    }

    @Test
    void write_arrivesAsTheSlavesInput() throws Exception {
        slave = TestFds.openSlave(slavePath);
        master.write("xxping\nyy".getBytes(StandardCharsets.UTF_8), 2, 5);
        assertEquals("ping\n", new String(TestFds.readSome(slave, 64), StandardCharsets.UTF_8));
    }

    @Test
    void write_moreThanTheTerminalBuffers_blocksUntilReadThenDeliversEveryByte() throws Throwable {
        slave = TestFds.openSlave(slavePath);
        TestFds.makeRaw(slave);
        byte[] data = new byte[1 << 20]; // far beyond the pty's 64 KiB plus the line discipline's 4 KiB
        new Random(42).nextBytes(data);
        CompletableFuture<Void> writer = CompletableFuture.runAsync(
                () -> {
                    try {
                        master.write(data, 0, data.length);
                    } catch (SyscallException e) {
                        throw new IllegalStateException(e);
                    }
                },
                command -> Thread.ofPlatform().name("pty-writer").start(command));
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        while (got.size() < data.length) {
            got.writeBytes(TestFds.readSome(slave, 65536));
        }
        writer.get(10, TimeUnit.SECONDS);
        assertArrayEquals(data, got.toByteArray());
    }

    @Test
    void read_onceEveryProcessClosedTheSlave_isEndOfStream() throws Exception {
        slave = TestFds.openSlave(slavePath);
        TestFds.writeAll(slave, "bye".getBytes(StandardCharsets.UTF_8));
        Libc.rawClose(slave);
        slave = -1;
        assertEquals("bye", readFromMaster(3));
        assertEquals(-1, master.read(new byte[16], 0, 16), "EIO is end of stream");
    }

    @Test
    void resize_isWhatTheSlaveSees() throws Exception {
        slave = TestFds.openSlave(slavePath);
        master.resize(24, 80);
        assertArrayEquals(new int[] {24, 80}, PtyMaster.windowSize(slave));
        master.resize(65535, 0);
        assertArrayEquals(new int[] {65535, 0}, PtyMaster.windowSize(slave));
    }

    @Test
    void resize_outOfRange_isRejectedBeforeAnyCall() {
        assertThrows(IllegalArgumentException.class, () -> master.resize(65536, 80));
        assertThrows(IllegalArgumentException.class, () -> master.resize(24, -1));
    }

    @Test
    void close_whileAnotherThreadIsBlockedInRead_endsThatReadWithEndOfStream() throws Exception {
        slave = TestFds.openSlave(slavePath); // so the read blocks instead of seeing EIO
        CompletableFuture<Integer> read = new CompletableFuture<>();
        Thread reader = Thread.ofPlatform().name("pty-reader-t").start(() -> {
            try {
                read.complete(master.read(new byte[16], 0, 16));
            } catch (Throwable t) {
                read.completeExceptionally(t);
            }
        });
        // Inside read() and asleep in the kernel: the blocked state close() has to break.
        await().atMost(Duration.ofSeconds(10))
                .until(() -> master.activeCalls() == 1 && TestFds.sleeping("pty-reader-t"));
        assertFalse(read.isDone());

        master.close();

        assertEquals(-1, read.get(5, TimeUnit.SECONDS));
        reader.join();
        assertEquals(0, master.activeCalls());
        assertEquals(-1, master.read(new byte[1], 0, 1), "and after close");
    }

    @Test
    void close_whileAnotherThreadIsBlockedInWrite_failsThatWriteWithEbadf() throws Throwable {
        slave = TestFds.openSlave(slavePath);
        TestFds.makeRaw(slave); // no echo, no line limit: the queue simply fills as nobody reads it
        byte[] data = new byte[1 << 20];
        CompletableFuture<Void> write = new CompletableFuture<>();
        Thread.ofPlatform().name("pty-writer-t").start(() -> {
            try {
                master.write(data, 0, data.length);
                write.complete(null);
            } catch (Throwable t) {
                write.completeExceptionally(t);
            }
        });
        await().atMost(Duration.ofSeconds(10))
                .until(() -> master.activeCalls() == 1 && TestFds.sleeping("pty-writer-t"));

        master.close();

        var e = assertThrows(ExecutionException.class, () -> write.get(5, TimeUnit.SECONDS));
        assertEquals(Errno.EBADF, ((SyscallException) e.getCause()).errno());
        var after = assertThrows(SyscallException.class, () -> master.write(data, 0, 1));
        assertEquals(Errno.EBADF, after.errno());
        assertThrows(SyscallException.class, () -> master.resize(1, 1));
    }

    @Test
    void close_isIdempotent_andReleasesTheDescriptor() {
        int fd = master.fd();
        master.close();
        master.close();
        assertFalse(isPtmx(fd), "master fd closed");
    }

    @Test
    void constructor_onADescriptorThatIsNotOpen_fails() {
        var e = assertThrows(java.io.UncheckedIOException.class, () -> new PtyMaster(-1));
        assertEquals(Errno.EBADF, ((SyscallException) e.getCause()).errno());
    }

    private String readFromMaster(int n) throws Exception {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[64];
        while (got.size() < n) {
            int r = master.read(buf, 0, buf.length);
            assertTrue(r > 0, "data, not end of stream");
            got.write(buf, 0, r);
        }
        return got.toString(StandardCharsets.UTF_8);
    }

    private static boolean isPtmx(int fd) {
        try {
            return TestFds.target(fd).equals("/dev/ptmx") || TestFds.target(fd).equals("/dev/pts/ptmx");
        } catch (java.io.IOException e) {
            return false;
        }
    }
}

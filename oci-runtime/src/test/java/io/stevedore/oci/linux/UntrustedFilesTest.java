package io.stevedore.oci.linux;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UntrustedFilesTest {
    private static final Duration T = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    @Test
    void readRegular_smallFile_isRead() throws IOException {
        Path f = Files.writeString(dir.resolve("profile.json"), "{\"defaultAction\":\"SCMP_ACT_ALLOW\"}");
        assertArrayEquals(Files.readAllBytes(f), UntrustedFiles.readRegular(f, 1024, T));
    }

    @Test
    void readRegular_emptyFile_isEmpty() throws IOException {
        Path f = Files.createFile(dir.resolve("empty"));
        assertEquals(0, UntrustedFiles.readRegular(f, 1024, T).length);
    }

    @Test
    void readRegular_fifoWithoutWriter_isRefusedAtOnce() throws Exception {
        Path fifo = dir.resolve("fifo");
        new LinuxSyscalls().mknod(fifo, Syscalls.S_IFIFO | 0600, 0, 0);
        var e = assertThrows(UntrustedFiles.RefusedException.class, () -> UntrustedFiles.readRegular(fifo, 1024, T));
        assertTrue(e.getMessage().endsWith("not a regular file"), e.getMessage());
    }

    @Test
    void readRegular_devZero_isRefused_notReadForever() {
        var e = assertThrows(
                UntrustedFiles.RefusedException.class,
                () -> UntrustedFiles.readRegular(Path.of("/dev/zero"), 1 << 20, T));
        assertTrue(e.getMessage().endsWith("not a regular file"), e.getMessage());
    }

    @Test
    void readRegular_symlink_isRefused() throws IOException {
        Path target = Files.writeString(dir.resolve("secret"), "root:x:0:0");
        Path link = Files.createSymbolicLink(dir.resolve("link"), target);
        var e = assertThrows(UntrustedFiles.RefusedException.class, () -> UntrustedFiles.readRegular(link, 1024, T));
        assertTrue(e.getMessage().endsWith("is a symbolic link"), e.getMessage());
    }

    @Test
    void readRegular_overTheBound_isRefused_withoutItsContent() throws IOException {
        Path f = Files.writeString(dir.resolve("big"), "root:secret-hash:".repeat(100));
        var e = assertThrows(UntrustedFiles.RefusedException.class, () -> UntrustedFiles.readRegular(f, 64, T));
        assertTrue(e.getMessage().endsWith("larger than 64 bytes"), e.getMessage());
        assertFalse(e.getMessage().contains("secret"), "never quotes the file");
    }

    @Test
    void readRegular_exactlyTheBound_isRead() throws IOException {
        byte[] b = "x".repeat(64).getBytes(StandardCharsets.US_ASCII);
        Path f = Files.write(dir.resolve("bound"), b);
        assertArrayEquals(b, UntrustedFiles.readRegular(f, 64, T));
    }

    @Test
    void readRegular_missing_isENOENT() {
        var e = assertThrows(SyscallException.class, () -> UntrustedFiles.readRegular(dir.resolve("nope"), 64, T));
        assertEquals(Errno.ENOENT, e.errno());
    }

    @Test
    void readRegular_directory_isRefused() {
        assertThrows(UntrustedFiles.RefusedException.class, () -> UntrustedFiles.readRegular(dir, 64, T));
    }
}

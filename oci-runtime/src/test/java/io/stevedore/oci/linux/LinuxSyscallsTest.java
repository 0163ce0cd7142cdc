package io.stevedore.oci.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LinuxSyscallsTest {
    @TempDir
    Path tmp;

    final Syscalls sys = new LinuxSyscalls();

    @Test
    void mknod_fifo_createsAFifo() throws Exception {
        Path p = tmp.resolve("fifo");
        sys.mknod(p, Syscalls.S_IFIFO | 0600, 0, 0);
        assertTrue(Files.exists(p));
        assertEquals(Syscalls.S_IFIFO | 0600, (int) Files.getAttribute(p, "unix:mode") & 0177777);
    }

    @Test
    void mknod_missingParent_isEnoentNamingThePath() {
        Path p = tmp.resolve("no/such/fifo");
        var e = assertThrows(SyscallException.class, () -> sys.mknod(p, Syscalls.S_IFIFO | 0600, 0, 0));
        assertEquals(Errno.ENOENT, e.errno());
        assertEquals("mknod " + p + ": ENOENT (no such file or directory)", e.getMessage());
    }

    @Test
    void syncfs_directory_succeeds_andMissingPathIsEnoent() throws Exception {
        Files.writeString(tmp.resolve("f"), "x");
        sys.syncfs(tmp);
        sys.fsync(tmp);
        var e = assertThrows(SyscallException.class, () -> sys.syncfs(tmp.resolve("missing")));
        assertEquals(Errno.ENOENT, e.errno());
    }

    @Test
    void lsetxattr_userNamespace_isReadBackByTheJdk() throws Exception {
        Path p = Files.writeString(tmp.resolve("f"), "x");
        var view = Files.getFileAttributeView(p, UserDefinedFileAttributeView.class);
        assumeTrue(
                Files.getFileStore(p).supportsFileAttributeView(UserDefinedFileAttributeView.class),
                "no user xattrs here");
        sys.lsetxattr(p, "user.stevedore", "yes".getBytes(StandardCharsets.UTF_8));
        ByteBuffer buf = ByteBuffer.allocate(16);
        view.read("stevedore", buf);
        assertEquals("yes", new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8));
    }

    @Test
    void chmodAndUtimensat_onAFifo_neverOpenIt() throws Exception {
        Path p = tmp.resolve("fifo");
        sys.mknod(p, Syscalls.S_IFIFO | 0600, 0, 0);
        sys.chmod(p, 04620); // the JDK's unix:mode would open the FIFO and block forever
        sys.utimensat(p, Instant.ofEpochSecond(1), Instant.ofEpochSecond(1577836800L, 5));
        assertEquals(Syscalls.S_IFIFO | 04620, (int) Files.getAttribute(p, "unix:mode") & 0177777);
        assertEquals(
                FileTime.from(Instant.ofEpochSecond(1577836800L, 5)),
                Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void utimensat_onASymlink_setsTheLinksOwnTime() throws Exception {
        Path target = Files.writeString(tmp.resolve("t"), "x");
        Path link = Files.createSymbolicLink(tmp.resolve("l"), target);
        var before = Files.getLastModifiedTime(target);
        sys.utimensat(link, Instant.ofEpochSecond(7), Instant.ofEpochSecond(7));
        assertEquals(
                7000L,
                Files.getLastModifiedTime(link, LinkOption.NOFOLLOW_LINKS).toMillis());
        assertEquals(before, Files.getLastModifiedTime(target), "target untouched");
    }

    @Test
    void makedev_matchesGlibc() {
        assertEquals(0x0103L, LinuxSyscalls.makedev(1, 3)); // /dev/null
        assertEquals(0x10302L, LinuxSyscalls.makedev(259, 2));
        assertEquals(0x12300845L, LinuxSyscalls.makedev(8, 0x12345)); // minor bits above 8 go to bit 20
    }

    @Test
    void mount_tmpfs_isVisibleThenGoneAfterUmount2() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root");
        Path target = Files.createDirectory(tmp.resolve("mnt"));
        sys.mount("tmpfs", target, "tmpfs", Syscalls.MS_NOSUID | Syscalls.MS_NODEV, "size=1m,mode=700");
        try {
            assertTrue(mountinfo().contains(" " + target + " "), "mounted");
            Files.writeString(target.resolve("f"), "x");
        } finally {
            sys.umount2(target, Syscalls.MNT_DETACH);
        }
        assertTrue(!mountinfo().contains(" " + target + " "), "unmounted");
        assertTrue(!Files.exists(target.resolve("f")), "the file lived on the tmpfs");
    }

    @Test
    void umount2_notAMountPoint_isEinval() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root");
        var e = assertThrows(SyscallException.class, () -> sys.umount2(tmp, 0));
        assertEquals(Errno.EINVAL, e.errno());
    }

    @Test
    void reap_notOurChild_isFalse() {
        assertTrue(!sys.reap(1));
    }

    @Test
    void pidfd_signalsTheProcessItWasOpenedFor() throws Exception {
        Process p = new ProcessBuilder("sleep", "60").start();
        try {
            int fd = sys.pidfdOpen((int) p.pid());
            assertTrue(fd >= 0, "a descriptor");
            try {
                assertTrue(sys.pidfdSendSignal(fd, 15), "sent");
                assertTrue(p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS), "SIGTERM ended it");
                assertEquals(128 + 15, p.exitValue());
                // Reaped: the descriptor still names that process, never a newer one with its pid.
                assertTrue(!sys.pidfdSendSignal(fd, 15), "ESRCH once reaped");
            } finally {
                sys.close(fd);
            }
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void pidfdOpen_reapedProcess_isMinusOne() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        assertEquals(-1, sys.pidfdOpen((int) p.pid()));
    }

    private static String mountinfo() throws java.io.IOException {
        return Files.readString(Path.of("/proc/self/mountinfo"));
    }
}

package io.stevedore.server.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.stevedore.oci.linux.SyscallException;
import io.stevedore.oci.linux.Syscalls;
import io.stevedore.server.error.CriException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The mount(2) calls behind a rootfs and an image volume, recorded rather than made. */
class RootfsMountsTest {
    @TempDir
    Path dir;

    /** Records each mount as {@code source target type flags data}; fails the n-th when asked. */
    static final class Recording implements Syscalls {
        final List<String> calls = new CopyOnWriteArrayList<>();
        int failAt = -1;

        @Override
        public void mount(String source, Path target, String fsType, long flags, String data) throws SyscallException {
            if (calls.size() == failAt) throw new SyscallException("mount", target, 1);
            calls.add("mount " + source + " " + target.getFileName() + " " + fsType + " " + flags + " " + data);
        }

        @Override
        public void umount2(Path target, int flags) throws SyscallException {
            if (calls.getLast().startsWith("umount")) throw new SyscallException("umount2", target, 22);
            calls.add("umount " + target.getFileName());
        }

        @Override
        public void mknod(Path path, int mode, int major, int minor) {}

        @Override
        public void chmod(Path path, int mode) {}

        @Override
        public void utimensat(Path path, Instant atime, Instant mtime) {}

        @Override
        public void lsetxattr(Path path, String name, byte[] value) {}
    }

    @Test
    void mountReadOnly_layers_areAReadOnlyOverlayWithoutUpper_topFirst() throws IOException {
        var sys = new Recording();
        new RootfsMounts(sys).mountReadOnly(List.of(Path.of("/s/1/fs"), Path.of("/s/2/fs")), dir.resolve("v"));
        long ro = Syscalls.MS_RDONLY | Syscalls.MS_NOSUID | Syscalls.MS_NODEV;
        assertEquals(List.of("mount overlay v overlay " + ro + " lowerdir=/s/2/fs:/s/1/fs"), sys.calls);
    }

    @Test
    void mountReadOnly_oneLayer_isABindRemountedReadOnly() throws IOException {
        var sys = new Recording();
        new RootfsMounts(sys).mountReadOnly(List.of(Path.of("/s/1/fs")), dir.resolve("v"));
        long ro = Syscalls.MS_BIND | Syscalls.MS_REMOUNT | Syscalls.MS_RDONLY | Syscalls.MS_NOSUID | Syscalls.MS_NODEV;
        assertEquals(
                List.of("mount /s/1/fs v null " + Syscalls.MS_BIND + " null", "mount null v null " + ro + " null"),
                sys.calls);
    }

    @Test
    void mountReadOnly_remountFails_undoesTheBind() {
        var sys = new Recording();
        sys.failAt = 1;
        assertThrows(
                SyscallException.class,
                () -> new RootfsMounts(sys).mountReadOnly(List.of(Path.of("/s/1/fs")), dir.resolve("v")));
        assertEquals("umount v", sys.calls.get(1));
    }

    @Test
    void mountReadOnly_noLayers_isRefused() {
        assertThrows(
                CriException.FailedPrecondition.class,
                () -> new RootfsMounts(new Recording()).mountReadOnly(List.of(), dir.resolve("v")));
    }
}

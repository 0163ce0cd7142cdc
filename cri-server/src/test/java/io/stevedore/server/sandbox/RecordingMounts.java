package io.stevedore.server.sandbox;

import io.stevedore.oci.linux.SyscallException;
import io.stevedore.oci.linux.Syscalls;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** {@link Syscalls} whose mounts are only recorded: the pods' shm, without root. */
final class RecordingMounts implements Syscalls {
    private static final int EINVAL = 22;
    private final Set<Path> mounted = ConcurrentHashMap.newKeySet();
    volatile SyscallException failMount;

    @Override
    public void mount(String source, Path target, String fsType, long flags, String data) throws SyscallException {
        if (failMount != null) throw failMount;
        mounted.add(target);
    }

    @Override
    public void umount2(Path target, int flags) throws SyscallException {
        if (!mounted.remove(target)) throw new SyscallException("umount2", target, EINVAL);
    }

    Set<Path> mounted() {
        return Set.copyOf(mounted);
    }

    @Override
    public void mknod(Path path, int mode, int major, int minor) {
        throw new UnsupportedOperationException("mknod");
    }

    @Override
    public void chmod(Path path, int mode) {
        throw new UnsupportedOperationException("chmod");
    }

    @Override
    public void utimensat(Path path, Instant atime, Instant mtime) {
        throw new UnsupportedOperationException("utimensat");
    }

    @Override
    public void lsetxattr(Path path, String name, byte[] value) {
        throw new UnsupportedOperationException("lsetxattr");
    }
}

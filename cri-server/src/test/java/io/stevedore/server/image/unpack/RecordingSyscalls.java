package io.stevedore.server.image.unpack;

import io.stevedore.oci.linux.LinuxSyscalls;
import io.stevedore.oci.linux.SyscallException;
import io.stevedore.oci.linux.Syscalls;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Records the privileged calls (mknod, lsetxattr) instead of making them, mknod leaving an empty
 * file as a marker; chmod and utimensat need no privilege on the test's own files and are real.
 */
final class RecordingSyscalls implements Syscalls {
    final List<String> calls = new ArrayList<>();
    private final Syscalls real = new LinuxSyscalls();

    @Override
    public synchronized void mknod(Path path, int mode, int major, int minor) {
        calls.add("mknod " + path.getFileName() + " " + Integer.toOctalString(mode) + " " + major + ":" + minor);
        try {
            Files.createFile(path);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public synchronized void chmod(Path path, int mode) throws SyscallException {
        real.chmod(path, mode); // no privilege needed on the test's own files
    }

    @Override
    public synchronized void utimensat(Path path, Instant atime, Instant mtime) throws SyscallException {
        real.utimensat(path, atime, mtime);
    }

    @Override
    public synchronized void lsetxattr(Path path, String name, byte[] value) {
        calls.add("lsetxattr " + path.getFileName() + " " + name + "=" + new String(value, StandardCharsets.UTF_8));
    }
}

package io.stevedore.oci.linux;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * The Linux calls the JDK does not offer, behind a seam so unit tests can record instead of
 * call. Implementations are thread-safe.
 */
public interface Syscalls {
    /** {@code mknod(2)}: {@code mode} includes the file type ({@code S_IFCHR}, {@code S_IFBLK}, {@code S_IFIFO}). */
    void mknod(Path path, int mode, int major, int minor) throws SyscallException;

    /**
     * {@code chmod(2)} by path, full mode including setuid, setgid and sticky. Unlike the JDK's
     * attribute views it never opens the file, so it is safe on FIFOs and device nodes (opening a
     * FIFO with no writer blocks forever). Follows a final symlink: never call it on one.
     */
    void chmod(Path path, int mode) throws SyscallException;

    /**
     * {@code utimensat(2)} with {@code AT_SYMLINK_NOFOLLOW}: sets access and modification times of
     * the path itself (a symlink's own times), without opening it.
     */
    void utimensat(Path path, Instant atime, Instant mtime) throws SyscallException;

    /** {@code lsetxattr(2)}: sets an extended attribute without following a final symlink. */
    void lsetxattr(Path path, String name, byte[] value) throws SyscallException;

    /**
     * {@code mount(2)}. {@code data} is the file system's option string ({@code lowerdir=…} for
     * overlay); it must fit in one page.
     */
    default void mount(String source, Path target, String fsType, long flags, String data) throws SyscallException {
        throw new UnsupportedOperationException("mount");
    }

    /** {@code umount2(2)}; {@link #MNT_DETACH} for a lazy unmount. */
    default void umount2(Path target, int flags) throws SyscallException {
        throw new UnsupportedOperationException("umount2");
    }

    /**
     * {@code prctl(PR_SET_CHILD_SUBREAPER, 1)}: orphaned descendants are reparented to this process
     * instead of init, so this process must reap them ({@link #reap}).
     */
    default void setChildSubreaper() throws SyscallException {
        throw new UnsupportedOperationException("prctl");
    }

    /**
     * {@code waitpid(pid, WNOHANG)} for one child this process did not start through the JDK (an
     * adopted orphan). Returns whether it was reaped: false while it runs, or when it is not our
     * child ({@code ECHILD}).
     */
    default boolean reap(int pid) {
        throw new UnsupportedOperationException("waitpid");
    }

    /**
     * {@code pidfd_open(2)}: a descriptor naming the process that has {@code pid} now, which a reused
     * pid can never redirect. Returns -1 when there is no such process ({@code ESRCH}).
     */
    default int pidfdOpen(int pid) throws SyscallException {
        throw new UnsupportedOperationException("pidfd_open");
    }

    /**
     * {@code pidfd_send_signal(2)}. Returns false when the process has already been reaped
     * ({@code ESRCH}).
     */
    default boolean pidfdSendSignal(int pidfd, int signal) throws SyscallException {
        throw new UnsupportedOperationException("pidfd_send_signal");
    }

    /**
     * {@code waitid(P_PIDFD, pidfd, WEXITED)}: blocks until the process exits, reaps it and returns
     * its exit code, or 128 + the signal number if a signal ended it (as a shell reports it). Retries
     * {@code EINTR}. Blocks in native code, so call it from a platform thread. The process must be a
     * child of this one, also an adopted orphan when this process is a child subreaper ({@link
     * #setChildSubreaper}); the descriptor stays open (close it with {@link #close}). Never use it on
     * a process the JDK started: the JDK reaps those itself and one of the two would miss the exit.
     *
     * @throws SyscallException {@code ECHILD} if it is not our child or was already reaped
     */
    default int waitExit(int pidfd) throws SyscallException {
        throw new UnsupportedOperationException("waitid");
    }

    /** {@code close(2)} of a descriptor from {@link #pidfdOpen}. */
    default void close(int fd) {
        throw new UnsupportedOperationException("close");
    }

    /**
     * {@code syncfs(2)}: writes back everything cached for the filesystem {@code path} is on, in one
     * call, where fsyncing a whole unpacked tree would take one call per file. {@code path} is
     * opened read-only (a directory is fine) and closed again. The default does nothing, so a fake
     * need not implement it; {@link LinuxSyscalls} makes the call.
     */
    default void syncfs(Path path) throws SyscallException {}

    /**
     * {@code fsync(2)} of a file or a directory by path (after a rename, the directory's own entry
     * list). The default does it through the JDK, so fakes get the real call unless they record it.
     */
    default void fsync(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    long MS_RDONLY = 1;
    long MS_NOSUID = 2;
    long MS_NODEV = 4;
    long MS_NOEXEC = 8;
    long MS_REMOUNT = 32;
    long MS_BIND = 4096;
    long MS_REC = 16384;
    long MS_PRIVATE = 1 << 18;
    int MNT_DETACH = 2;
    int S_IFIFO = 0010000;
    int S_IFCHR = 0020000;
    int S_IFBLK = 0060000;
}

package io.stevedore.oci.linux;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Reads a file that a request names (a seccomp profile, say), the way containerd and CRI-O do,
 * so that no path can hang or exhaust the caller: opened with {@code O_NONBLOCK} (a FIFO with no
 * writer does not block the open) and {@code O_NOFOLLOW} (the last component is not a symlink),
 * {@code fstat}-ed and refused unless a regular file, and read at most {@code maxBytes} (so
 * {@code /dev/zero} or a huge file cannot fill the heap). The work runs on a short-lived platform
 * thread with a deadline: a stuck network or FUSE file system may keep that thread, but never
 * the caller, and never a carrier of virtual threads. At most {@link #MAX_STUCK} such threads may
 * be outstanding; beyond that, reads fail at once.
 *
 * <p>Error messages name the path and what was wrong with it, never the file's contents.
 * Thread-safe.
 */
public final class UntrustedFiles {
    /** Reads in flight (or stuck) at once. */
    static final int MAX_STUCK = 16;

    private static final Semaphore SLOTS = new Semaphore(MAX_STUCK);

    private UntrustedFiles() {}

    /** The file is not one we read: not regular, a symlink, too large, or it did not answer. */
    public static final class RefusedException extends IOException {
        public RefusedException(String message) {
            super(message);
        }
    }

    /**
     * The whole content of the regular file at {@code path}.
     *
     * @throws RefusedException for anything but a regular file of at most {@code maxBytes}, a read
     *     that took longer than {@code timeout}, or too many reads outstanding
     * @throws SyscallException when it cannot be opened (ENOENT, EACCES…)
     */
    public static byte[] readRegular(Path path, int maxBytes, Duration timeout) throws IOException {
        if (!SLOTS.tryAcquire()) {
            throw new RefusedException(path + ": too many file reads outstanding");
        }
        var result = new CompletableFuture<byte[]>();
        Thread.ofPlatform().daemon().name("untrusted-read").stackSize(256 << 10).start(() -> {
            try {
                result.complete(readNow(path, maxBytes));
            } catch (Throwable t) {
                result.completeExceptionally(t);
            } finally {
                SLOTS.release();
            }
        });
        try {
            return result.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new RefusedException(path + ": did not answer within " + timeout.toMillis() + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("reading " + path + ": interrupted");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IllegalStateException("reading " + path, e.getCause());
        }
    }

    /** The same, on the calling thread (which it may block on a stuck file system). */
    static byte[] readNow(Path path, int maxBytes) throws IOException {
        int fd;
        try {
            fd = Libc.open(
                    path.toString(),
                    Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_NOFOLLOW | Libc.O_CLOEXEC | Libc.O_NOCTTY,
                    null);
        } catch (SyscallException e) {
            if (e.errno() == 40 /* ELOOP: O_NOFOLLOW met a symlink */) {
                throw new RefusedException(path + ": is a symbolic link");
            }
            throw e;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(Libc.CAPTURED);
            MemorySegment st = a.allocate(Libc.STAT_SIZE, 8);
            int r = Libc.rawFstat(state, fd, st);
            if (r < 0) {
                throw new SyscallException("fstat", path, -r);
            }
            int mode = st.get(ValueLayout.JAVA_INT, Libc.STAT_MODE);
            if ((mode & Libc.S_IFMT) != Libc.S_IFREG) {
                throw new RefusedException(path + ": not a regular file");
            }
            if (st.get(ValueLayout.JAVA_LONG, Libc.STAT_SIZE_FIELD) > maxBytes) {
                throw new RefusedException(path + ": larger than " + maxBytes + " bytes");
            }
            // Read one byte past the bound: a file that grew since fstat is refused too.
            MemorySegment buf = a.allocate(maxBytes + 1L);
            long total = 0;
            while (total <= maxBytes) {
                long n = Libc.rawRead(state, fd, buf.asSlice(total), maxBytes + 1L - total);
                if (n == -Errno.EINTR) {
                    continue;
                }
                if (n < 0) {
                    throw new SyscallException("read", path, (int) -n);
                }
                if (n == 0) {
                    break;
                }
                total += n;
            }
            if (total > maxBytes) {
                throw new RefusedException(path + ": larger than " + maxBytes + " bytes");
            }
            return buf.asSlice(0, total).toArray(ValueLayout.JAVA_BYTE);
        } finally {
            Libc.rawClose(fd);
        }
    }
}

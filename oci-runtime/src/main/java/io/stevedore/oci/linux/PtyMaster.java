package io.stevedore.oci.linux;

import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The master side of a pseudo-terminal: what a container's {@code tty: true} process writes to its
 * terminal comes out of {@link #read}, and what {@link #write} puts in is the process's keyboard.
 * Typically the descriptor came from {@link ConsoleSocket#receiveMaster}.
 *
 * <p><b>Ownership.</b> The constructor takes ownership of the descriptor; {@link #close} closes
 * it. Nobody else may close it, read it, or use its number after handing it over. The constructor
 * sets {@code O_NONBLOCK} on the open file description (it is shared with any duplicate of the
 * descriptor, which should not exist).
 *
 * <p><b>Blocking and threads.</b> {@link #read} and {@link #write} block in native code
 * ({@code poll(2)}) until data or room arrives, so call them from platform threads: a virtual
 * thread in a native call pins its carrier thread for the whole wait. One reader and one writer
 * thread at a time is the intended use; concurrent readers are safe but each byte goes to one of
 * them.
 *
 * <p><b>Closing.</b> {@link #close} may be called from any thread at any time, also while other
 * threads are blocked in {@link #read}, {@link #write} or {@link #resize}. A plain {@code close(2)}
 * would not do: Linux leaves a thread blocked in {@code read(2)} on a tty blocked when the
 * descriptor is closed under it, and the freed number could be reused by an unrelated file. So
 * every wait here is a {@code poll(2)} on the master together with an eventfd this object owns;
 * {@code close()} signals the eventfd, which makes blocked reads return -1 and blocked writes throw,
 * waits for them to leave, and only then closes both descriptors. Calls after {@code close()}:
 * {@code read} returns -1, {@code write} and {@code resize} throw {@code EBADF}.
 */
public final class PtyMaster implements AutoCloseable {
    /** Largest single native transfer, so one call never allocates more than this off-heap. */
    private static final int CHUNK = 64 * 1024;

    private static final long TIOCGWINSZ = 0x5413;
    private static final long TIOCSWINSZ = 0x5414;

    private final FdGate gate;

    /**
     * Wraps the open master {@code fd}, taking ownership of it.
     *
     * @throws UncheckedIOException if {@code fd} is not open or no eventfd could be made; the caller
     *     then still owns {@code fd}
     */
    public PtyMaster(int fd) {
        int r = Libc.rawFcntl(fd, Libc.F_GETFL, 0);
        if (r >= 0 && (r & Libc.O_NONBLOCK) == 0) {
            r = Libc.rawFcntl(fd, Libc.F_SETFL, r | Libc.O_NONBLOCK);
        }
        if (r < 0) {
            throw new UncheckedIOException(new SyscallException("fcntl O_NONBLOCK", "pty master fd " + fd, -r));
        }
        try {
            this.gate = new FdGate(fd);
        } catch (SyscallException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Opens a new pseudo-terminal pair: {@code posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)},
     * {@code grantpt}, {@code unlockpt}, {@code ptsname_r}. The slave is not opened; whoever opens it
     * should pass {@code O_NOCTTY} unless it means to acquire a controlling terminal.
     */
    public static PtyPair openPair() throws SyscallException {
        int fd = Libc.posixOpenpt(Libc.O_RDWR | Libc.O_NOCTTY | Libc.O_CLOEXEC);
        try {
            Path slave = Path.of(Libc.unlockSlave(fd));
            return new PtyPair(new PtyMaster(fd), slave);
        } catch (SyscallException | RuntimeException e) {
            Libc.rawClose(fd);
            throw e;
        }
    }

    /**
     * The descriptor number, for logging or for handing to {@code poll}; it stays owned by this
     * object and is invalid after {@link #close}.
     */
    public int fd() {
        return gate.fd();
    }

    /**
     * Reads at least one byte, blocking until some are available. Retries {@code EINTR}.
     *
     * @return the number of bytes read (0 only when {@code len} is 0), or -1 at end of stream: when
     *     no process has the slave open any more (Linux reports {@code EIO} then, also before the
     *     slave was first opened), or once {@link #close} has begun
     */
    public int read(byte[] buf, int off, int len) throws SyscallException {
        Objects.checkFromIndexSize(off, len, buf.length);
        if (len == 0) {
            return 0;
        }
        if (!gate.enter()) {
            return -1;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(Libc.CAPTURED);
            MemorySegment seg = a.allocate(Math.min(len, CHUNK));
            for (; ; ) {
                long n = Libc.rawRead(state, gate.fd(), seg, seg.byteSize());
                if (n > 0) {
                    MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, 0, buf, off, (int) n);
                    return (int) n;
                }
                if (n == 0 || n == -Errno.EIO) {
                    return -1;
                }
                if (n != -Errno.EAGAIN && n != -Errno.EINTR) {
                    throw new SyscallException("read", this, (int) -n);
                }
                if (n == -Errno.EAGAIN && gate.await(gate.fd(), Libc.POLLIN, Long.MAX_VALUE) == FdGate.CLOSING) {
                    return -1;
                }
            }
        } finally {
            gate.exit();
        }
    }

    /**
     * Writes all {@code len} bytes, blocking while the terminal's input queue is full. Retries
     * {@code EINTR}.
     *
     * @throws SyscallException {@code EIO} once no process has the slave open; {@code EBADF} if
     *     {@link #close} began before or during the call (some bytes may have been written then)
     */
    public void write(byte[] buf, int off, int len) throws SyscallException {
        Objects.checkFromIndexSize(off, len, buf.length);
        if (!gate.enter()) {
            throw new SyscallException("write", this, Errno.EBADF);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(Libc.CAPTURED);
            MemorySegment seg = a.allocate(Math.max(1, Math.min(len, CHUNK)));
            int done = 0;
            while (done < len) {
                int chunk = (int) Math.min(len - done, seg.byteSize());
                MemorySegment.copy(buf, off + done, seg, ValueLayout.JAVA_BYTE, 0, chunk);
                int sent = 0;
                while (sent < chunk) {
                    long n = Libc.rawWrite(state, gate.fd(), seg.asSlice(sent), chunk - sent);
                    if (n >= 0) {
                        sent += (int) n;
                    } else if (n == -Errno.EAGAIN) {
                        if (gate.await(gate.fd(), Libc.POLLOUT, Long.MAX_VALUE) == FdGate.CLOSING) {
                            throw new SyscallException("write", this, Errno.EBADF);
                        }
                    } else if (n != -Errno.EINTR) {
                        throw new SyscallException("write", this, (int) -n);
                    }
                }
                done += chunk;
            }
        } finally {
            gate.exit();
        }
    }

    /**
     * Sets the terminal size, {@code ioctl(TIOCSWINSZ)}; the kernel sends {@code SIGWINCH} to the
     * terminal's foreground process group when it changes.
     *
     * @throws IllegalArgumentException unless both are in 0..65535
     */
    public void resize(int rows, int cols) throws SyscallException {
        if (rows < 0 || rows > 0xffff || cols < 0 || cols > 0xffff) {
            throw new IllegalArgumentException("terminal size " + rows + "x" + cols + " outside 0..65535");
        }
        if (!gate.enter()) {
            throw new SyscallException("ioctl TIOCSWINSZ", this, Errno.EBADF);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(Libc.CAPTURED);
            MemorySegment ws = winsize(a, rows, cols);
            int r;
            do {
                r = Libc.rawIoctl(state, gate.fd(), TIOCSWINSZ, ws);
            } while (r == -Errno.EINTR);
            if (r < 0) {
                throw new SyscallException("ioctl TIOCSWINSZ", this, -r);
            }
        } finally {
            gate.exit();
        }
    }

    /** {@code struct winsize {unsigned short ws_row, ws_col, ws_xpixel, ws_ypixel;}}. */
    static MemorySegment winsize(Arena a, int rows, int cols) {
        MemorySegment ws = a.allocate(8, 2);
        ws.set(ValueLayout.JAVA_SHORT, 0, (short) rows);
        ws.set(ValueLayout.JAVA_SHORT, 2, (short) cols);
        return ws;
    }

    /** {@code ioctl(TIOCGWINSZ)} on any terminal descriptor: {rows, cols}. For tests. */
    static int[] windowSize(int fd) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(Libc.CAPTURED);
            MemorySegment ws = winsize(a, 0, 0);
            int r = Libc.rawIoctl(state, fd, TIOCGWINSZ, ws);
            if (r < 0) {
                throw new SyscallException("ioctl TIOCGWINSZ", "fd " + fd, -r);
            }
            return new int[] {
                Short.toUnsignedInt(ws.get(ValueLayout.JAVA_SHORT, 0)),
                Short.toUnsignedInt(ws.get(ValueLayout.JAVA_SHORT, 2))
            };
        }
    }

    /** Callers inside read, write or resize right now; for tests. */
    int activeCalls() {
        return gate.users();
    }

    /**
     * Closes the master, first ending calls blocked in other threads (see the class comment).
     * Idempotent; never throws. The process on the slave side sees a hang-up ({@code SIGHUP}, then
     * {@code EIO}).
     */
    @Override
    public void close() {
        gate.close();
    }

    @Override
    public String toString() {
        return "pty master fd " + gate.fd();
    }
}

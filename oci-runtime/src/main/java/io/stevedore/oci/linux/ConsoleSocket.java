package io.stevedore.oci.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeoutException;

/**
 * The receiving end of an OCI runtime's {@code --console-socket}: a listening Unix stream socket to
 * which runc connects, once the container's terminal exists, to send the pty master descriptor
 * with {@code SCM_RIGHTS} (what containerd's console socket receives).
 *
 * <p><b>Ownership.</b> This object owns the listening descriptor and the socket file; {@link
 * #close} closes the one and unlinks the other. Each descriptor {@link #receiveMaster} returns
 * belongs to the caller (wrap it in a {@link PtyMaster}).
 *
 * <p><b>Threads.</b> {@link #receiveMaster} blocks in native code ({@code poll(2)}) for up to its
 * timeout: call it from a platform thread, not a virtual one. {@link #close} may be called from any
 * thread, also while another is blocked in {@code receiveMaster}, which then fails with {@code
 * EBADF} at once (the wait is a {@code poll} that includes an eventfd {@code close} signals; see
 * {@link PtyMaster} for why a plain {@code close(2)} would not wake it). Several concurrent {@code
 * receiveMaster} calls are safe, each takes one connection.
 */
public final class ConsoleSocket implements AutoCloseable {
    /** {@code sizeof(sun_path)} is 108, including the terminating NUL. */
    static final int MAX_PATH_BYTES = 107;

    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_NONBLOCK = 0x800;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final int MSG_CTRUNC = 0x8;
    private static final int MSG_DONTWAIT = 0x40;
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;
    /** runc sends the terminal's name; containerd reads up to 4096 bytes of it. */
    private static final int PAYLOAD_BYTES = 4096;
    /** Room for 16 descriptors, though one is expected: any extra ones are closed, not leaked. */
    private static final int MAX_FDS = 16;

    private static final int CMSG_HEADER = 16;

    private final Path path;
    private final FdGate gate;

    private ConsoleSocket(Path path, FdGate gate) {
        this.path = path;
        this.gate = gate;
    }

    /**
     * Creates the socket file at {@code path} (made absolute, as runc will get it) with mode 0600 and
     * listens on it. The mode is set on the socket before {@code bind(2)}, so the file is never
     * connectable by others, then fixed to exactly 0600 with {@code chmod}.
     *
     * @throws SyscallException {@code ENAMETOOLONG} if the absolute path is longer than 107 bytes (it
     *     must fit {@code sun_path} with its NUL), nothing created then; {@code EADDRINUSE} if
     *     anything already exists at the path, which is left alone
     */
    public static ConsoleSocket bind(Path path) throws SyscallException {
        Path abs = path.toAbsolutePath();
        byte[] name = abs.toString().getBytes(StandardCharsets.UTF_8);
        if (name.length > MAX_PATH_BYTES) {
            throw new SyscallException(
                    "bind (a Unix socket path is at most " + MAX_PATH_BYTES + " bytes, this one is " + name.length
                            + ")",
                    abs,
                    Errno.ENAMETOOLONG);
        }
        int fd = Libc.rawSocket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            throw new SyscallException("socket AF_UNIX for", abs, -fd);
        }
        boolean bound = false;
        try {
            int r = Libc.rawFchmod(fd, 0600);
            if (r < 0) {
                throw new SyscallException("fchmod 0600 socket for", abs, -r);
            }
            try (Arena a = Arena.ofConfined()) {
                MemorySegment addr = a.allocate(110, 2); // struct sockaddr_un
                addr.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
                MemorySegment.copy(name, 0, addr, ValueLayout.JAVA_BYTE, 2, name.length);
                r = Libc.rawBind(fd, addr, 2 + name.length + 1);
            }
            if (r < 0) {
                throw new SyscallException("bind", abs, -r);
            }
            bound = true;
            new LinuxSyscalls().chmod(abs, 0600);
            r = Libc.rawListen(fd, 4);
            if (r < 0) {
                throw new SyscallException("listen", abs, -r);
            }
            return new ConsoleSocket(abs, new FdGate(fd));
        } catch (SyscallException | RuntimeException e) {
            Libc.rawClose(fd);
            if (bound) {
                Libc.rawUnlink(abs.toString());
            }
            throw e;
        }
    }

    /** The absolute path of the socket file, for runc's {@code --console-socket}. */
    public Path path() {
        return path;
    }

    /**
     * Waits for one connection, receives the one descriptor it sends with {@code SCM_RIGHTS}
     * (already close-on-exec, by {@code MSG_CMSG_CLOEXEC}), closes the connection and returns the
     * descriptor, which the caller then owns. Whatever bytes come with it (runc sends the terminal's
     * name) are ignored; descriptors beyond the first are closed. The timeout covers the whole
     * exchange, so a peer that connects and sends nothing cannot hang the caller.
     *
     * @throws TimeoutException if no descriptor arrived within {@code timeout}
     * @throws SyscallException if a call failed; {@code EPROTO} if a peer closed its connection
     *     without sending a descriptor; {@code EBADF} if this socket is or gets closed
     */
    public int receiveMaster(Duration timeout) throws SyscallException, TimeoutException {
        long deadline = deadline(timeout);
        if (!gate.enter()) {
            throw new SyscallException("accept (console socket closed)", path, Errno.EBADF);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(Libc.CAPTURED);
            for (; ; ) {
                int conn = Libc.rawAccept4(state, gate.fd(), SOCK_CLOEXEC);
                if (conn >= 0) {
                    try {
                        return receive(a, conn, deadline, timeout);
                    } finally {
                        Libc.rawClose(conn);
                    }
                }
                if (conn != -Errno.EAGAIN && conn != -Errno.EINTR && conn != -Errno.ECONNABORTED) {
                    throw new SyscallException("accept4", path, -conn);
                }
                if (conn == -Errno.EAGAIN) {
                    waitFor(gate.fd(), deadline, timeout, "accept");
                }
            }
        } finally {
            gate.exit();
        }
    }

    private int receive(Arena a, int conn, long deadline, Duration timeout) throws SyscallException, TimeoutException {
        MemorySegment state = a.allocate(Libc.CAPTURED);
        MemorySegment payload = a.allocate(PAYLOAD_BYTES);
        MemorySegment iov = a.allocate(16, 8); // struct iovec {void *base; size_t len;}
        iov.set(ValueLayout.ADDRESS, 0, payload);
        iov.set(ValueLayout.JAVA_LONG, 8, payload.byteSize());
        long controlLen = CMSG_HEADER + 4L * MAX_FDS; // CMSG_SPACE(4 * MAX_FDS); already 8-aligned
        MemorySegment control = a.allocate(controlLen, 8);
        MemorySegment msg = a.allocate(56, 8); // struct msghdr
        for (; ; ) {
            msg.fill((byte) 0);
            control.fill((byte) 0);
            msg.set(ValueLayout.ADDRESS, 16, iov); // msg_iov
            msg.set(ValueLayout.JAVA_LONG, 24, 1L); // msg_iovlen
            msg.set(ValueLayout.ADDRESS, 32, control); // msg_control
            msg.set(ValueLayout.JAVA_LONG, 40, controlLen); // msg_controllen
            long n = Libc.rawRecvmsg(state, conn, msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
            if (n == -Errno.EINTR) {
                continue;
            }
            if (n == -Errno.EAGAIN) {
                waitFor(conn, deadline, timeout, "recvmsg");
                continue;
            }
            if (n < 0) {
                throw new SyscallException("recvmsg", path, (int) -n);
            }
            int fd = takeFirstFd(control, msg.get(ValueLayout.JAVA_LONG, 40));
            if (fd >= 0) {
                return fd;
            }
            if ((msg.get(ValueLayout.JAVA_INT, 48) & MSG_CTRUNC) != 0) {
                throw new SyscallException("recvmsg (control data truncated, descriptors lost)", path, Errno.EPROTO);
            }
            if (n == 0) {
                throw new SyscallException("recvmsg (peer closed without sending a descriptor)", path, Errno.EPROTO);
            }
            // Bytes without a descriptor: keep reading, the descriptor may ride on a later message.
        }
    }

    /** The first {@code SCM_RIGHTS} descriptor in {@code control}, or -1; closes all others. */
    private static int takeFirstFd(MemorySegment control, long controlLen) {
        int first = -1;
        long off = 0;
        while (off + CMSG_HEADER <= controlLen) {
            long len = control.get(ValueLayout.JAVA_LONG, off); // cmsg_len
            if (len < CMSG_HEADER || off + len > controlLen) {
                break;
            }
            int level = control.get(ValueLayout.JAVA_INT, off + 8);
            int type = control.get(ValueLayout.JAVA_INT, off + 12);
            if (level == SOL_SOCKET && type == SCM_RIGHTS) {
                for (long p = off + CMSG_HEADER; p + 4 <= off + len; p += 4) {
                    int fd = control.get(ValueLayout.JAVA_INT, p);
                    if (first < 0) {
                        first = fd;
                    } else {
                        Libc.rawClose(fd);
                    }
                }
            }
            off += (len + 7) & ~7L; // CMSG_ALIGN
        }
        return first;
    }

    private void waitFor(int fd, long deadline, Duration timeout, String call)
            throws SyscallException, TimeoutException {
        int r = gate.await(fd, Libc.POLLIN, deadline);
        if (r == FdGate.CLOSING) {
            throw new SyscallException(call + " (console socket closed)", path, Errno.EBADF);
        }
        if (r == FdGate.TIMED_OUT) {
            throw new TimeoutException("no pty master descriptor on " + path + " within " + timeout);
        }
    }

    /** A {@link FdGate#await} deadline; one beyond ~292 years is none at all. */
    private static long deadline(Duration timeout) {
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("negative timeout " + timeout);
        }
        try {
            return Math.addExact(System.nanoTime(), timeout.toNanos());
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /** Callers inside receiveMaster right now; for tests. */
    int activeCalls() {
        return gate.users();
    }

    /**
     * Closes the listening socket, ending any {@link #receiveMaster} in progress, and removes the
     * socket file. Idempotent; never throws. Descriptors already returned stay open.
     */
    @Override
    public void close() {
        if (gate.close()) {
            Libc.rawUnlink(path.toString());
        }
    }

    @Override
    public String toString() {
        return "console socket " + path;
    }
}

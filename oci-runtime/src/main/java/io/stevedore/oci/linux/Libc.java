package io.stevedore.oci.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The glibc descriptor calls behind {@link PtyMaster}, {@link ConsoleSocket} and
 * {@link NetNamespaces}, with errno captured by the linker as in {@link LinuxSyscalls}. Struct
 * offsets are those of the LP64 Linux ABIs (x86_64, aarch64).
 *
 * <p>Two shapes: the {@code raw*} methods return {@code -errno} instead of throwing, for loops that
 * branch on {@code EAGAIN}/{@code EINTR} without allocating an exception each turn; the others
 * throw {@link SyscallException}. All are thread-safe and block only where the call itself does.
 */
final class Libc {
    static final int O_RDONLY = 0;
    static final int O_RDWR = 2;
    static final int O_NOCTTY = 0x100;
    static final int O_NONBLOCK = 0x800;
    static final int O_CLOEXEC = 0x80000;
    static final int F_GETFD = 1;
    static final int F_GETFL = 3;
    static final int F_SETFL = 4;
    static final int FD_CLOEXEC = 1;
    static final short POLLIN = 0x1;
    static final short POLLOUT = 0x4;
    static final short POLLERR = 0x8;
    static final short POLLHUP = 0x10;
    static final short POLLNVAL = 0x20;
    static final int EFD_NONBLOCK = 0x800;
    static final int EFD_CLOEXEC = 0x80000;

    private static final Linker LINKER = Linker.nativeLinker();
    static final StructLayout CAPTURED = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURED.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private static final MethodHandle OPEN = downcall(
            "open",
            FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
            2);
    private static final MethodHandle CLOSE =
            downcall("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), -1);
    private static final MethodHandle READ = downcall(
            "read",
            FunctionDescriptor.of(
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG),
            -1);
    private static final MethodHandle WRITE = downcall(
            "write",
            FunctionDescriptor.of(
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG),
            -1);
    private static final MethodHandle POLL = downcall(
            "poll",
            FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT),
            -1);
    private static final MethodHandle FCNTL = downcall(
            "fcntl",
            FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
            2);
    private static final MethodHandle IOCTL = downcall(
            "ioctl",
            FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS),
            2);
    private static final MethodHandle EVENTFD = downcall(
            "eventfd", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), -1);
    private static final MethodHandle SETNS = downcall(
            "setns", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), -1);
    private static final MethodHandle UNLINK =
            downcall("unlink", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS), -1);
    private static final MethodHandle FCHMOD = downcall(
            "fchmod", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), -1);
    private static final MethodHandle SOCKET = downcall(
            "socket",
            FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
            -1);
    private static final MethodHandle BIND = downcall(
            "bind",
            FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
            -1);
    private static final MethodHandle LISTEN = downcall(
            "listen", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), -1);
    private static final MethodHandle ACCEPT4 = downcall(
            "accept4",
            FunctionDescriptor.of(
                    ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT,
                    ValueLayout.ADDRESS,
                    ValueLayout.ADDRESS,
                    ValueLayout.JAVA_INT),
            -1);
    private static final MethodHandle RECVMSG = downcall(
            "recvmsg",
            FunctionDescriptor.of(
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
            -1);
    private static final MethodHandle POSIX_OPENPT =
            downcall("posix_openpt", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), -1);
    private static final MethodHandle GRANTPT =
            downcall("grantpt", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), -1);
    private static final MethodHandle UNLOCKPT =
            downcall("unlockpt", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), -1);
    private static final MethodHandle PTSNAME_R = downcall(
            "ptsname_r",
            FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG),
            -1);

    private static final MethodHandle FSTAT = downcall(
            "fstat", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS), -1);
    /** {@code struct stat} on x86_64: 144 bytes, {@code st_mode} at 24, {@code st_size} at 48. */
    static final long STAT_SIZE = 144;

    static final long STAT_MODE = 24;
    static final long STAT_SIZE_FIELD = 48;
    static final int S_IFMT = 0170000;
    static final int S_IFREG = 0100000;
    static final int O_NOFOLLOW = 0x20000;

    private Libc() {}

    /** {@code fstat(2)} into {@code st} ({@link #STAT_SIZE} bytes): 0 or {@code -errno}. */
    static int rawFstat(MemorySegment state, int fd, MemorySegment st) {
        try {
            int r = (int) FSTAT.invokeExact(state, fd, st);
            return r < 0 ? -errno(state) : 0;
        } catch (Throwable t) {
            throw new IllegalStateException("fstat " + fd, t);
        }
    }

    /** {@code firstVariadic} is the index of the first variadic parameter, or -1 for none. */
    private static MethodHandle downcall(String name, FunctionDescriptor fd, int firstVariadic) {
        MemorySegment fn =
                LINKER.defaultLookup().find(name).orElseThrow(() -> new IllegalStateException("libc has no " + name));
        Linker.Option errno = Linker.Option.captureCallState("errno");
        return firstVariadic < 0
                ? LINKER.downcallHandle(fn, fd, errno)
                : LINKER.downcallHandle(fn, fd, errno, Linker.Option.firstVariadicArg(firstVariadic));
    }

    static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    /** {@code open(2)}; {@code what} names the file in the exception ("open " + what + " " + path). */
    static int open(String path, int flags, String what) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURED);
            int fd = (int) OPEN.invokeExact(state, a.allocateFrom(path), flags, 0);
            if (fd < 0) {
                throw new SyscallException(what == null ? "open" : "open " + what, path, errno(state));
            }
            return fd;
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("open " + path, t);
        }
    }

    /** {@code close(2)}; returns 0 or {@code -errno}. Never retried: on Linux the fd is gone even on EINTR. */
    static int rawClose(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURED);
            int r = (int) CLOSE.invokeExact(state, fd);
            return r < 0 ? -errno(state) : 0;
        } catch (Throwable t) {
            throw new IllegalStateException("close " + fd, t);
        }
    }

    /** {@code read(2)}: bytes read, 0 at end of file, or {@code -errno}. */
    static long rawRead(MemorySegment state, int fd, MemorySegment buf, long len) {
        try {
            long n = (long) READ.invokeExact(state, fd, buf, len);
            return n < 0 ? -errno(state) : n;
        } catch (Throwable t) {
            throw new IllegalStateException("read " + fd, t);
        }
    }

    /** {@code write(2)}: bytes written or {@code -errno}. */
    static long rawWrite(MemorySegment state, int fd, MemorySegment buf, long len) {
        try {
            long n = (long) WRITE.invokeExact(state, fd, buf, len);
            return n < 0 ? -errno(state) : n;
        } catch (Throwable t) {
            throw new IllegalStateException("write " + fd, t);
        }
    }

    /** {@code poll(2)} on {@code nfds} {@code struct pollfd}s: ready count, 0 on timeout, or {@code -errno}. */
    static int rawPoll(MemorySegment state, MemorySegment fds, int nfds, int timeoutMillis) {
        try {
            int r = (int) POLL.invokeExact(state, fds, (long) nfds, timeoutMillis);
            return r < 0 ? -errno(state) : r;
        } catch (Throwable t) {
            throw new IllegalStateException("poll", t);
        }
    }

    /** Fills {@code struct pollfd} number {@code i} of {@code fds} (8 bytes each). */
    static void pollfd(MemorySegment fds, int i, int fd, short events) {
        fds.set(ValueLayout.JAVA_INT, i * 8L, fd);
        fds.set(ValueLayout.JAVA_SHORT, i * 8L + 4, events);
        fds.set(ValueLayout.JAVA_SHORT, i * 8L + 6, (short) 0);
    }

    static short revents(MemorySegment fds, int i) {
        return fds.get(ValueLayout.JAVA_SHORT, i * 8L + 6);
    }

    /** {@code fcntl(2)} with an int argument: the result, or {@code -errno}. */
    static int rawFcntl(int fd, int cmd, int arg) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURED);
            int r = (int) FCNTL.invokeExact(state, fd, cmd, arg);
            return r < 0 ? -errno(state) : r;
        } catch (Throwable t) {
            throw new IllegalStateException("fcntl " + fd, t);
        }
    }

    /** {@code ioctl(2)} with a pointer argument: the result, or {@code -errno}. */
    static int rawIoctl(MemorySegment state, int fd, long request, MemorySegment arg) {
        try {
            int r = (int) IOCTL.invokeExact(state, fd, request, arg);
            return r < 0 ? -errno(state) : r;
        } catch (Throwable t) {
            throw new IllegalStateException("ioctl " + fd, t);
        }
    }

    static int eventfd(int flags) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURED);
            int fd = (int) EVENTFD.invokeExact(state, 0, flags);
            if (fd < 0) {
                throw new SyscallException("eventfd", "", errno(state));
            }
            return fd;
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("eventfd", t);
        }
    }

    /** {@code setns(2)}: 0 or {@code -errno}. */
    static int rawSetns(int fd, int nstype) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURED);
            int r = (int) SETNS.invokeExact(state, fd, nstype);
            return r < 0 ? -errno(state) : 0;
        } catch (Throwable t) {
            throw new IllegalStateException("setns " + fd, t);
        }
    }

    /** {@code unlink(2)}: 0 or {@code -errno}. */
    static int rawUnlink(String path) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURED);
            int r = (int) UNLINK.invokeExact(state, a.allocateFrom(path));
            return r < 0 ? -errno(state) : 0;
        } catch (Throwable t) {
            throw new IllegalStateException("unlink " + path, t);
        }
    }

    /** {@code fchmod(2)}: 0 or {@code -errno}. */
    static int rawFchmod(int fd, int mode) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURED);
            int r = (int) FCHMOD.invokeExact(state, fd, mode);
            return r < 0 ? -errno(state) : 0;
        } catch (Throwable t) {
            throw new IllegalStateException("fchmod " + fd, t);
        }
    }

    /** {@code socket(2)}: the descriptor or {@code -errno}. */
    static int rawSocket(int domain, int type, int protocol) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURED);
            int fd = (int) SOCKET.invokeExact(state, domain, type, protocol);
            return fd < 0 ? -errno(state) : fd;
        } catch (Throwable t) {
            throw new IllegalStateException("socket", t);
        }
    }

    /** {@code bind(2)}: 0 or {@code -errno}. */
    static int rawBind(int fd, MemorySegment addr, int addrLen) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURED);
            int r = (int) BIND.invokeExact(state, fd, addr, addrLen);
            return r < 0 ? -errno(state) : 0;
        } catch (Throwable t) {
            throw new IllegalStateException("bind " + fd, t);
        }
    }

    /** {@code listen(2)}: 0 or {@code -errno}. */
    static int rawListen(int fd, int backlog) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURED);
            int r = (int) LISTEN.invokeExact(state, fd, backlog);
            return r < 0 ? -errno(state) : 0;
        } catch (Throwable t) {
            throw new IllegalStateException("listen " + fd, t);
        }
    }

    /** {@code accept4(2)} without the peer address: the descriptor or {@code -errno}. */
    static int rawAccept4(MemorySegment state, int fd, int flags) {
        try {
            int r = (int) ACCEPT4.invokeExact(state, fd, MemorySegment.NULL, MemorySegment.NULL, flags);
            return r < 0 ? -errno(state) : r;
        } catch (Throwable t) {
            throw new IllegalStateException("accept4 " + fd, t);
        }
    }

    /** {@code recvmsg(2)}: bytes received, 0 at end of stream, or {@code -errno}. */
    static long rawRecvmsg(MemorySegment state, int fd, MemorySegment msghdr, int flags) {
        try {
            long n = (long) RECVMSG.invokeExact(state, fd, msghdr, flags);
            return n < 0 ? -errno(state) : n;
        } catch (Throwable t) {
            throw new IllegalStateException("recvmsg " + fd, t);
        }
    }

    static int posixOpenpt(int flags) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURED);
            int fd = (int) POSIX_OPENPT.invokeExact(state, flags);
            if (fd < 0) {
                throw new SyscallException("posix_openpt", "/dev/ptmx", errno(state));
            }
            return fd;
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("posix_openpt", t);
        }
    }

    /** {@code grantpt(3)} then {@code unlockpt(3)}, then {@code ptsname_r(3)}: the slave's path. */
    static String unlockSlave(int master) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURED);
            if ((int) GRANTPT.invokeExact(state, master) != 0) {
                throw new SyscallException("grantpt", "fd " + master, errno(state));
            }
            if ((int) UNLOCKPT.invokeExact(state, master) != 0) {
                throw new SyscallException("unlockpt", "fd " + master, errno(state));
            }
            MemorySegment name = a.allocate(128);
            int r = (int) PTSNAME_R.invokeExact(state, master, name, name.byteSize());
            if (r != 0) {
                throw new SyscallException("ptsname_r", "fd " + master, r > 0 ? r : errno(state));
            }
            return name.getString(0);
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("ptsname_r", t);
        }
    }
}

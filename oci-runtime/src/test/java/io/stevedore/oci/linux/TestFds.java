package io.stevedore.oci.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Test-side descriptor plumbing the JDK lacks: a tty slave opened with {@code O_NOCTTY}, raw mode,
 * and the sending end of {@code SCM_RIGHTS}.
 */
final class TestFds {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle CONNECT = downcall(
            "connect",
            FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle SENDMSG = downcall(
            "sendmsg",
            FunctionDescriptor.of(
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle TCGETATTR = downcall(
            "tcgetattr", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MethodHandle TCSETATTR = downcall(
            "tcsetattr",
            FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MethodHandle CFMAKERAW = downcall("cfmakeraw", FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
    private static final MethodHandle PRCTL = downcall(
            "prctl",
            FunctionDescriptor.of(
                    ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG));

    private TestFds() {}

    private static MethodHandle downcall(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd);
    }

    /** Opens a pty slave read-write without making it anyone's controlling terminal. */
    static int openSlave(Path slave) throws SyscallException {
        return Libc.open(slave.toString(), Libc.O_RDWR | Libc.O_NOCTTY | Libc.O_CLOEXEC, "pty slave");
    }

    /** {@code cfmakeraw}: no echo, no line editing, no output processing. */
    static void makeRaw(int fd) throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment termios = a.allocate(128, 8); // glibc's struct termios is 60 bytes
            check((int) TCGETATTR.invokeExact(fd, termios), "tcgetattr");
            CFMAKERAW.invokeExact(termios);
            check((int) TCSETATTR.invokeExact(fd, 0 /* TCSANOW */, termios), "tcsetattr");
        }
    }

    /** Blocking {@code write(2)} of all of {@code data}. */
    static void writeAll(int fd, byte[] data) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(Libc.CAPTURED);
            MemorySegment buf = a.allocate(Math.max(1, data.length));
            MemorySegment.copy(data, 0, buf, ValueLayout.JAVA_BYTE, 0, data.length);
            long done = 0;
            while (done < data.length) {
                long n = Libc.rawWrite(state, fd, buf.asSlice(done), data.length - done);
                if (n < 0) {
                    throw new IllegalStateException("write: " + Errno.name((int) -n));
                }
                done += n;
            }
        }
    }

    /** One blocking {@code read(2)} of up to {@code max} bytes; null at end of file or on EIO. */
    static byte[] readSome(int fd, int max) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(Libc.CAPTURED);
            MemorySegment buf = a.allocate(max);
            long n;
            do {
                n = Libc.rawRead(state, fd, buf, max);
            } while (n == -Errno.EINTR);
            if (n == 0 || n == -Errno.EIO) {
                return null;
            }
            if (n < 0) {
                throw new IllegalStateException("read: " + Errno.name((int) -n));
            }
            return buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /** {@code fcntl(F_GETFD)} has {@code FD_CLOEXEC}. */
    static boolean cloexec(int fd) {
        int flags = Libc.rawFcntl(fd, Libc.F_GETFD, 0);
        if (flags < 0) {
            throw new IllegalStateException("fcntl F_GETFD " + fd + ": " + Errno.name(-flags));
        }
        return (flags & Libc.FD_CLOEXEC) != 0;
    }

    /** What {@code /proc/self/fd/N} points to. */
    static String target(int fd) throws java.io.IOException {
        return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
    }

    /**
     * Connects to the Unix socket at {@code path} and sends {@code payload} with {@code fds} as
     * {@code SCM_RIGHTS} in one message (no descriptor if {@code fds} is empty), as runc does.
     * Returns the connected descriptor, still open.
     */
    static int connectAndSend(Path path, byte[] payload, int... fds) throws Throwable {
        int s = Libc.rawSocket(1 /* AF_UNIX */, 1 /* SOCK_STREAM */ | Libc.O_CLOEXEC, 0);
        check(s, "socket");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment addr = a.allocate(110, 2);
            addr.set(ValueLayout.JAVA_SHORT, 0, (short) 1);
            byte[] name = path.toString().getBytes(StandardCharsets.UTF_8);
            MemorySegment.copy(name, 0, addr, ValueLayout.JAVA_BYTE, 2, name.length);
            check((int) CONNECT.invokeExact(s, addr, 2 + name.length + 1), "connect");
            if (payload.length == 0 && fds.length == 0) {
                return s;
            }
            MemorySegment data = a.allocate(Math.max(1, payload.length));
            MemorySegment.copy(payload, 0, data, ValueLayout.JAVA_BYTE, 0, payload.length);
            MemorySegment iov = a.allocate(16, 8);
            iov.set(ValueLayout.ADDRESS, 0, data);
            iov.set(ValueLayout.JAVA_LONG, 8, payload.length);
            MemorySegment msg = a.allocate(56, 8);
            msg.set(ValueLayout.ADDRESS, 16, iov);
            msg.set(ValueLayout.JAVA_LONG, 24, 1L);
            if (fds.length > 0) {
                long len = 16 + 4L * fds.length; // CMSG_LEN
                MemorySegment control = a.allocate((len + 7) & ~7L, 8);
                control.set(ValueLayout.JAVA_LONG, 0, len);
                control.set(ValueLayout.JAVA_INT, 8, 1); // SOL_SOCKET
                control.set(ValueLayout.JAVA_INT, 12, 1); // SCM_RIGHTS
                for (int i = 0; i < fds.length; i++) {
                    control.set(ValueLayout.JAVA_INT, 16 + 4L * i, fds[i]);
                }
                msg.set(ValueLayout.ADDRESS, 32, control);
                msg.set(ValueLayout.JAVA_LONG, 40, control.byteSize());
            }
            long n = (long) SENDMSG.invokeExact(s, msg, 0);
            check((int) n, "sendmsg");
            return s;
        } catch (Throwable t) {
            Libc.rawClose(s);
            throw t;
        }
    }

    /** Whether the native thread named {@code name} is asleep in the kernel (state S). */
    static boolean sleeping(String name) throws java.io.IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            return tasks.anyMatch(t -> {
                try {
                    if (!Files.readString(t.resolve("comm")).strip().equals(name)) {
                        return false;
                    }
                    String stat = Files.readString(t.resolve("stat"));
                    return stat.substring(stat.lastIndexOf(')') + 2).startsWith("S");
                } catch (java.io.IOException e) {
                    return false; // the thread ended meanwhile
                }
            });
        }
    }

    /** {@code prctl(PR_SET_CHILD_SUBREAPER, 0)}: orphans go to init again. */
    static void clearChildSubreaper() throws Throwable {
        check((int) PRCTL.invokeExact(36, 0L, 0L, 0L, 0L), "prctl");
    }

    private static void check(int r, String call) {
        if (r < 0) {
            throw new IllegalStateException(call + " failed");
        }
    }
}

package io.stevedore.oci.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.time.Instant;

/**
 * {@link Syscalls} on glibc through the FFM API: no JNI, no native library of ours. errno is
 * captured by the linker right after each call, so it is never clobbered by the JVM.
 */
public final class LinuxSyscalls implements Syscalls {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURED = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CAPTURED.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle MKNOD = downcall(
            "mknod",
            FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    private static final MethodHandle CHMOD =
            downcall("chmod", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle UTIMENSAT = downcall(
            "utimensat",
            FunctionDescriptor.of(
                    ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT,
                    ValueLayout.ADDRESS,
                    ValueLayout.ADDRESS,
                    ValueLayout.JAVA_INT));
    private static final int AT_FDCWD = -100;
    private static final int AT_SYMLINK_NOFOLLOW = 0x100;
    private static final MethodHandle LSETXATTR = downcall(
            "lsetxattr",
            FunctionDescriptor.of(
                    ValueLayout.JAVA_INT,
                    ValueLayout.ADDRESS,
                    ValueLayout.ADDRESS,
                    ValueLayout.ADDRESS,
                    ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_INT));

    private static final MethodHandle MOUNT = downcall(
            "mount",
            FunctionDescriptor.of(
                    ValueLayout.JAVA_INT,
                    ValueLayout.ADDRESS,
                    ValueLayout.ADDRESS,
                    ValueLayout.ADDRESS,
                    ValueLayout.JAVA_LONG,
                    ValueLayout.ADDRESS));
    private static final MethodHandle UMOUNT2 =
            downcall("umount2", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle PRCTL = downcall(
            "prctl",
            FunctionDescriptor.of(
                    ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG));
    private static final MethodHandle WAITPID = downcall(
            "waitpid",
            FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle PIDFD_OPEN = downcall(
            "pidfd_open", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle PIDFD_SEND_SIGNAL = downcall(
            "pidfd_send_signal",
            FunctionDescriptor.of(
                    ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT,
                    ValueLayout.ADDRESS,
                    ValueLayout.JAVA_INT));
    private static final MethodHandle CLOSE =
            downcall("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle WAITID = downcall(
            "waitid",
            FunctionDescriptor.of(
                    ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT,
                    ValueLayout.ADDRESS,
                    ValueLayout.JAVA_INT));
    private static final MethodHandle SYNCFS =
            downcall("syncfs", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final int PR_SET_CHILD_SUBREAPER = 36;
    private static final int P_PIDFD = 3;
    private static final int WEXITED = 4;
    private static final int SIGINFO_SIZE = 128;
    private static final int CLD_EXITED = 1;
    private static final int CLD_KILLED = 2;
    private static final int CLD_DUMPED = 3;
    private static final int WNOHANG = 1;

    private static MethodHandle downcall(String name, FunctionDescriptor fd) {
        MemorySegment fn =
                LINKER.defaultLookup().find(name).orElseThrow(() -> new IllegalStateException("libc has no " + name));
        return LINKER.downcallHandle(fn, fd, Linker.Option.captureCallState("errno"));
    }

    /** glibc's makedev(3). */
    static long makedev(int major, int minor) {
        long ma = major & 0xffffffffL;
        long mi = minor & 0xffffffffL;
        return ((ma & 0x00000fffL) << 8) | ((ma & 0xfffff000L) << 32) | (mi & 0x000000ffL) | ((mi & 0xffffff00L) << 12);
    }

    @Override
    public void mknod(Path path, int mode, int major, int minor) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURED);
            int r = (int) MKNOD.invokeExact(state, a.allocateFrom(path.toString()), mode, makedev(major, minor));
            if (r < 0) {
                throw new SyscallException("mknod", path, (int) ERRNO.get(state, 0L));
            }
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("mknod " + path, t);
        }
    }

    @Override
    public void chmod(Path path, int mode) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURED);
            int r = (int) CHMOD.invokeExact(state, a.allocateFrom(path.toString()), mode);
            if (r < 0) {
                throw new SyscallException("chmod", path, (int) ERRNO.get(state, 0L));
            }
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("chmod " + path, t);
        }
    }

    @Override
    public void utimensat(Path path, Instant atime, Instant mtime) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURED);
            MemorySegment times = a.allocate(ValueLayout.JAVA_LONG, 4); // struct timespec[2]
            times.setAtIndex(ValueLayout.JAVA_LONG, 0, atime.getEpochSecond());
            times.setAtIndex(ValueLayout.JAVA_LONG, 1, atime.getNano());
            times.setAtIndex(ValueLayout.JAVA_LONG, 2, mtime.getEpochSecond());
            times.setAtIndex(ValueLayout.JAVA_LONG, 3, mtime.getNano());
            int r = (int)
                    UTIMENSAT.invokeExact(state, AT_FDCWD, a.allocateFrom(path.toString()), times, AT_SYMLINK_NOFOLLOW);
            if (r < 0) {
                throw new SyscallException("utimensat", path, (int) ERRNO.get(state, 0L));
            }
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("utimensat " + path, t);
        }
    }

    @Override
    public void lsetxattr(Path path, String name, byte[] value) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURED);
            MemorySegment v = a.allocate(Math.max(1, value.length));
            MemorySegment.copy(value, 0, v, ValueLayout.JAVA_BYTE, 0, value.length);
            int r = (int) LSETXATTR.invokeExact(
                    state, a.allocateFrom(path.toString()), a.allocateFrom(name), v, (long) value.length, 0);
            if (r < 0) {
                throw new SyscallException("lsetxattr " + name, path, (int) ERRNO.get(state, 0L));
            }
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("lsetxattr " + path, t);
        }
    }

    @Override
    public void mount(String source, Path target, String fsType, long flags, String data) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURED);
            MemorySegment d = data == null ? MemorySegment.NULL : a.allocateFrom(data);
            MemorySegment t = fsType == null ? MemorySegment.NULL : a.allocateFrom(fsType);
            int r = (int) MOUNT.invokeExact(
                    state,
                    a.allocateFrom(source == null ? "none" : source),
                    a.allocateFrom(target.toString()),
                    t,
                    flags,
                    d);
            if (r < 0) {
                throw new SyscallException("mount " + fsType, target, (int) ERRNO.get(state, 0L));
            }
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("mount " + target, t);
        }
    }

    @Override
    public void umount2(Path target, int flags) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURED);
            int r = (int) UMOUNT2.invokeExact(state, a.allocateFrom(target.toString()), flags);
            if (r < 0) {
                throw new SyscallException("umount2", target, (int) ERRNO.get(state, 0L));
            }
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("umount2 " + target, t);
        }
    }

    @Override
    public void syncfs(Path path) throws SyscallException {
        int fd = Libc.open(path.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC, null);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURED);
            int r = (int) SYNCFS.invokeExact(state, fd);
            if (r < 0) {
                throw new SyscallException("syncfs", path, (int) ERRNO.get(state, 0L));
            }
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("syncfs " + path, t);
        } finally {
            Libc.rawClose(fd);
        }
    }

    @Override
    public void setChildSubreaper() throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURED);
            int r = (int) PRCTL.invokeExact(state, PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L);
            if (r < 0) {
                throw new SyscallException("prctl", "PR_SET_CHILD_SUBREAPER", (int) ERRNO.get(state, 0L));
            }
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("prctl", t);
        }
    }

    @Override
    public boolean reap(int pid) {
        if (pid <= 0) {
            throw new IllegalArgumentException("pid " + pid);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURED);
            MemorySegment status = a.allocate(ValueLayout.JAVA_INT);
            int r = (int) WAITPID.invokeExact(state, pid, status, WNOHANG);
            return r == pid;
        } catch (Throwable t) {
            throw new IllegalStateException("waitpid " + pid, t);
        }
    }

    @Override
    public int pidfdOpen(int pid) throws SyscallException {
        if (pid <= 0) {
            throw new IllegalArgumentException("pid " + pid);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURED);
            int fd = (int) PIDFD_OPEN.invokeExact(state, pid, 0);
            if (fd >= 0) return fd;
            int errno = (int) ERRNO.get(state, 0L);
            if (errno == Errno.ESRCH) return -1;
            throw new SyscallException("pidfd_open", pid, errno);
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("pidfd_open " + pid, t);
        }
    }

    @Override
    public boolean pidfdSendSignal(int pidfd, int signal) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURED);
            int r = (int) PIDFD_SEND_SIGNAL.invokeExact(state, pidfd, signal, MemorySegment.NULL, 0);
            if (r == 0) return true;
            int errno = (int) ERRNO.get(state, 0L);
            if (errno == Errno.ESRCH) return false;
            throw new SyscallException("pidfd_send_signal", "signal " + signal, errno);
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("pidfd_send_signal " + signal, t);
        }
    }

    @Override
    public int waitExit(int pidfd) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURED);
            MemorySegment info = a.allocate(SIGINFO_SIZE, 8); // siginfo_t, zeroed
            for (; ; ) {
                int r = (int) WAITID.invokeExact(state, P_PIDFD, pidfd, info, WEXITED);
                if (r == 0) break;
                int errno = (int) ERRNO.get(state, 0L);
                if (errno != Errno.EINTR) throw new SyscallException("waitid P_PIDFD", "pidfd " + pidfd, errno);
            }
            return exitCode(info.get(ValueLayout.JAVA_INT, 8), info.get(ValueLayout.JAVA_INT, 24));
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("waitid pidfd " + pidfd, t);
        }
    }

    /** A shell's exit code from siginfo_t's si_code and si_status. */
    static int exitCode(int siCode, int siStatus) {
        return switch (siCode) {
            case CLD_EXITED -> siStatus;
            case CLD_KILLED, CLD_DUMPED -> 128 + siStatus;
            default -> throw new IllegalStateException("waitid WEXITED reported si_code " + siCode);
        };
    }

    @Override
    public void close(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURED);
            int r = (int) CLOSE.invokeExact(state, fd);
            if (r < 0) throw new IllegalStateException("close " + fd + ": errno " + (int) ERRNO.get(state, 0L));
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("close " + fd, t);
        }
    }
}

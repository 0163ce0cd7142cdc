package io.stevedore.server.container.spec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Our {@code runtime/default} seccomp filter: an allow-list equal in effect to the default profile
 * of Docker and containerd, so that a workload that runs under either runs here, and one they
 * refuse is refused here too.
 *
 * <p>Everything not listed fails with EPERM. Beyond the plain list:
 *
 * <ul>
 *   <li>capability groups: a call tied to a capability ({@code mount} to CAP_SYS_ADMIN, {@code
 *       reboot} to CAP_SYS_BOOT, …) is allowed only when the container's bounding set holds it;
 *   <li>{@code clone} without CAP_SYS_ADMIN is allowed only when its flags ask for no new
 *       namespace (a masked compare over CLONE_NEWNS, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET and
 *       NEWCGROUP; the flags are the second argument on s390);
 *   <li>{@code clone3} without CAP_SYS_ADMIN fails with ENOSYS: its flags sit in a struct seccomp
 *       cannot read, and ENOSYS makes glibc fall back to {@code clone}, which is filtered;
 *   <li>{@code personality} only with the personas programs really set (Linux, and 32-bit
 *       Linux with or without {@code ADDR_NO_RANDOMIZE}) or the query value;
 *   <li>{@code socket} for every address family but AF_ALG (kernel crypto) and AF_VSOCK;
 *   <li>per-architecture calls ({@code arch_prctl}, {@code modify_ldt}, ARM's {@code cacheflush},
 *       s390's PCI calls) only on the architectures that have them.
 * </ul>
 *
 * <p>The filter lists the host's native architecture and the compatibility ABIs its kernel can run
 * (x86-64 with x86 and x32, aarch64 with arm, s390x with s390, …): a call through an ABI not listed
 * is refused, so a 32-bit binary cannot dodge the rules. Calls the runtime's libseccomp does not
 * know yet (new kernels' calls) are skipped by runc, not fatal.
 */
final class DefaultSeccompProfile {
    private static final ObjectMapper JSON = new ObjectMapper();

    static final int EPERM = 1;
    static final int ENOSYS = 38;

    /** The namespace flags {@code clone} may not carry without CAP_SYS_ADMIN. */
    static final long CLONE_NAMESPACE_FLAGS = 0x00020000L // CLONE_NEWNS
            | 0x02000000L // CLONE_NEWCGROUP
            | 0x04000000L // CLONE_NEWUTS
            | 0x08000000L // CLONE_NEWIPC
            | 0x10000000L // CLONE_NEWUSER
            | 0x20000000L // CLONE_NEWPID
            | 0x40000000L; // CLONE_NEWNET

    static final int AF_ALG = 38;
    static final int AF_VSOCK = 40;

    /** Allowed to every container, grouped by what they are for; whitespace-separated names. */
    private static final List<String> GROUPS = List.of(
            // process lifecycle, identity and credentials
            """
            capget capset execve execveat exit exit_group fork getcpu getegid getegid32 geteuid geteuid32
            getgid getgid32 getgroups getgroups32 getpgid getpgrp getpid getppid getpriority getresgid
            getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage getsid get_thread_area
            gettid getuid getuid32 kill landlock_add_rule landlock_create_ruleset landlock_restrict_self
            pidfd_open pidfd_send_signal prctl prlimit64 process_mrelease restart_syscall riscv_hwprobe rseq
            seccomp setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setpgid
            setpriority setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32
            setrlimit set_robust_list setsid set_thread_area set_tid_address setuid setuid32 sysinfo tgkill
            tkill ugetrlimit umask uname uretprobe vfork wait4 waitid waitpid
            """,
            // signals
            """
            alarm pause rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend
            rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sigaltstack signalfd signalfd4
            sigprocmask sigreturn
            """,
            // files, directories and links
            """
            access cachestat chdir chmod chown chown32 close close_range creat dup dup2 dup3 faccessat
            faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchmodat2
            fchown fchown32 fchownat fcntl fcntl64 fdatasync flock fstat fstat64 fstatat64 fstatfs fstatfs64
            fsync ftruncate ftruncate64 futimesat getcwd getdents getdents64 inotify_add_watch inotify_init
            inotify_init1 inotify_rm_watch lchown lchown32 link linkat lstat lstat64 mkdir mkdirat mknod
            mknodat name_to_handle_at newfstatat open openat openat2 readahead readlink readlinkat rename
            renameat renameat2 rmdir stat stat64 statfs statfs64 statmount statx symlink symlinkat sync
            sync_file_range syncfs truncate truncate64 unlink unlinkat utime utimensat utimensat_time64
            utimes
            """,
            // extended attributes
            """
            fgetxattr flistxattr fremovexattr fsetxattr getxattr getxattrat lgetxattr listxattr listxattrat
            llistxattr lremovexattr lsetxattr removexattr removexattrat setxattr setxattrat
            """,
            // reading, writing and waiting on descriptors
            """
            copy_file_range epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2
            epoll_wait epoll_wait_old eventfd eventfd2 getrandom io_cancel ioctl io_destroy io_getevents
            io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit listmount _llseek
            lseek memfd_create memfd_secret _newselect pipe pipe2 poll ppoll ppoll_time64 pread64 preadv
            preadv2 pselect6 pselect6_time64 pwrite64 pwritev pwritev2 read readv select sendfile sendfile64
            splice tee vmsplice write writev
            """,
            // memory
            """
            brk madvise map_shadow_stack membarrier mincore mlock mlock2 mlockall mmap mmap2 mprotect mremap
            mseal msync munlock munlockall munmap pkey_alloc pkey_free pkey_mprotect remap_file_pages
            """,
            // futexes, clocks and timers
            """
            adjtimex clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime
            clock_gettime64 clock_nanosleep clock_nanosleep_time64 futex futex_requeue futex_time64
            futex_wait futex_waitv futex_wake getitimer gettimeofday nanosleep setitimer time timer_create
            timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime timer_settime64
            timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64 times
            """,
            // scheduling
            """
            sched_getaffinity sched_getattr sched_getparam sched_get_priority_max sched_get_priority_min
            sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity
            sched_setattr sched_setparam sched_setscheduler sched_yield
            """,
            // System V and POSIX IPC
            """
            ipc mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend
            mq_timedsend_time64 mq_unlink msgctl msgget msgrcv msgsnd semctl semget semop semtimedop
            semtimedop_time64 shmat shmctl shmdt shmget
            """,
            // sockets (socket(2) itself is filtered below)
            """
            accept accept4 bind connect getpeername getsockname getsockopt listen recv recvfrom recvmmsg
            recvmmsg_time64 recvmsg send sendmmsg sendmsg sendto setsockopt shutdown socketcall socketpair
            """);

    /** Every call of {@link #GROUPS}. */
    static final List<List<String>> ALLOWED =
            GROUPS.stream().map(g -> List.of(g.strip().split("\\s+"))).toList();

    /** A seccomp argument condition: {@code op} compares argument {@code index} with the values. */
    record Arg(int index, String op, long value, long valueTwo) {}

    /**
     * One rule, kept when the container holds every capability of {@code caps} and none of {@code
     * unlessCaps}, and the host architecture is in {@code arches} (when not empty) and not in
     * {@code exceptArches}.
     */
    record Rule(
            List<String> names,
            String action,
            int errno,
            List<Arg> args,
            List<String> caps,
            List<String> unlessCaps,
            List<String> arches,
            List<String> exceptArches) {
        static Rule allow(String... names) {
            return new Rule(List.of(names), "SCMP_ACT_ALLOW", 0, List.of(), List.of(), List.of(), List.of(), List.of());
        }

        Rule ifCap(String cap) {
            return new Rule(names, action, errno, args, List.of(cap), unlessCaps, arches, exceptArches);
        }

        Rule unlessCap(String cap) {
            return new Rule(names, action, errno, args, caps, List.of(cap), arches, exceptArches);
        }

        Rule on(String... archList) {
            return new Rule(names, action, errno, args, caps, unlessCaps, List.of(archList), exceptArches);
        }

        Rule notOn(String... archList) {
            return new Rule(names, action, errno, args, caps, unlessCaps, arches, List.of(archList));
        }

        Rule where(int index, String op, long value, long valueTwo) {
            return new Rule(
                    names,
                    action,
                    errno,
                    List.of(new Arg(index, op, value, valueTwo)),
                    caps,
                    unlessCaps,
                    arches,
                    exceptArches);
        }

        Rule failing(int errnoRet) {
            return new Rule(names, "SCMP_ACT_ERRNO", errnoRet, args, caps, unlessCaps, arches, exceptArches);
        }

        boolean applies(Collection<String> held, String arch) {
            return held.containsAll(caps)
                    && unlessCaps.stream().noneMatch(held::contains)
                    && (arches.isEmpty() || arches.contains(arch))
                    && !exceptArches.contains(arch);
        }
    }

    /**
     * Before kernel 4.8 a tracer could rewrite a traced call after the filter had allowed it, so
     * ptrace was a way around seccomp; Docker allows it from 4.8 on, and so do we.
     */
    static final Rule PTRACE_RULE = Rule.allow("process_vm_readv", "process_vm_writev", "ptrace");

    /** This kernel lets seccomp see the call a tracer changed (4.8+). */
    static final boolean HOST_PTRACE_SAFE = kernelAtLeast(osRelease(), 4, 8);

    /** The rules after the plain allow-list and {@link #PTRACE_RULE}, in the order they are emitted. */
    static final List<Rule> RULES = List.of(
            // ptrace and cross-process memory access: see PTRACE_RULE, kept on kernels 4.8+ only
            Rule.allow("socket").where(0, "SCMP_CMP_LT", AF_ALG, 0),
            Rule.allow("socket").where(0, "SCMP_CMP_EQ", AF_ALG + 1, 0),
            Rule.allow("socket").where(0, "SCMP_CMP_GT", AF_VSOCK, 0),
            Rule.allow("personality").where(0, "SCMP_CMP_EQ", 0x0, 0), // PER_LINUX
            Rule.allow("personality").where(0, "SCMP_CMP_EQ", 0x0008, 0), // PER_LINUX32
            Rule.allow("personality").where(0, "SCMP_CMP_EQ", 0x20000, 0), // UNAME26
            Rule.allow("personality").where(0, "SCMP_CMP_EQ", 0x20008, 0), // UNAME26 | PER_LINUX32
            Rule.allow("personality").where(0, "SCMP_CMP_EQ", 0xffffffffL, 0), // query only
            Rule.allow("sync_file_range2", "swapcontext").on("ppc64le"),
            Rule.allow(
                            "arm_fadvise64_64",
                            "arm_sync_file_range",
                            "sync_file_range2",
                            "breakpoint",
                            "cacheflush",
                            "set_tls")
                    .on("arm", "arm64"),
            Rule.allow("arch_prctl").on("amd64", "x32"),
            Rule.allow("modify_ldt").on("amd64", "x32", "x86"),
            Rule.allow("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr")
                    .on("s390", "s390x"),
            Rule.allow("riscv_flush_icache").on("riscv64"),
            Rule.allow("open_by_handle_at").ifCap("CAP_DAC_READ_SEARCH"),
            Rule.allow(
                            "bpf",
                            "clone",
                            "clone3",
                            "fanotify_init",
                            "fsconfig",
                            "fsmount",
                            "fsopen",
                            "fspick",
                            "lookup_dcookie",
                            "lsm_get_self_attr",
                            "lsm_list_modules",
                            "lsm_set_self_attr",
                            "mount",
                            "mount_setattr",
                            "move_mount",
                            "open_tree",
                            "perf_event_open",
                            "quotactl",
                            "quotactl_fd",
                            "setdomainname",
                            "sethostname",
                            "setns",
                            "syslog",
                            "umount",
                            "umount2",
                            "unshare")
                    .ifCap("CAP_SYS_ADMIN"),
            Rule.allow("clone")
                    .where(0, "SCMP_CMP_MASKED_EQ", CLONE_NAMESPACE_FLAGS, 0)
                    .unlessCap("CAP_SYS_ADMIN")
                    .notOn("s390", "s390x"),
            Rule.allow("clone") // s390 passes the stack first and the flags second
                    .where(1, "SCMP_CMP_MASKED_EQ", CLONE_NAMESPACE_FLAGS, 0)
                    .unlessCap("CAP_SYS_ADMIN")
                    .on("s390", "s390x"),
            Rule.allow("clone3").failing(ENOSYS).unlessCap("CAP_SYS_ADMIN"),
            Rule.allow("reboot").ifCap("CAP_SYS_BOOT"),
            Rule.allow("chroot").ifCap("CAP_SYS_CHROOT"),
            Rule.allow("delete_module", "init_module", "finit_module").ifCap("CAP_SYS_MODULE"),
            Rule.allow("acct").ifCap("CAP_SYS_PACCT"),
            Rule.allow("kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace")
                    .ifCap("CAP_SYS_PTRACE"),
            Rule.allow("iopl", "ioperm").ifCap("CAP_SYS_RAWIO"),
            Rule.allow("settimeofday", "stime", "clock_settime", "clock_settime64")
                    .ifCap("CAP_SYS_TIME"),
            Rule.allow("vhangup").ifCap("CAP_SYS_TTY_CONFIG"),
            Rule.allow("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node")
                    .ifCap("CAP_SYS_NICE"),
            Rule.allow("syslog").ifCap("CAP_SYSLOG"),
            Rule.allow("bpf").ifCap("CAP_BPF"),
            Rule.allow("perf_event_open").ifCap("CAP_PERFMON"));

    /** The seccomp ABIs a host of each architecture runs, native first (containerd's {@code arches()}). */
    private static final Map<String, List<String>> ABIS = Map.of(
            "amd64", List.of("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"),
            "x86", List.of("SCMP_ARCH_X86"),
            "arm64", List.of("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"),
            "arm", List.of("SCMP_ARCH_ARM"),
            "mips64", List.of("SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32"),
            "mipsel64", List.of("SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32"),
            "ppc64le", List.of("SCMP_ARCH_PPC64LE"),
            "s390x", List.of("SCMP_ARCH_S390X", "SCMP_ARCH_S390"),
            "riscv64", List.of("SCMP_ARCH_RISCV64"));

    /** The native seccomp ABI of an architecture ({@code amd64}: {@code SCMP_ARCH_X86_64}); "" when unknown. */
    static String scmpArch(String arch) {
        List<String> abis = ABIS.get(arch);
        return abis == null ? "" : abis.getFirst();
    }

    /** This JVM's architecture under the names the rules use. */
    static final String HOST_ARCH = arch(System.getProperty("os.arch", ""));

    private DefaultSeccompProfile() {}

    /** A Java {@code os.arch} value as the rules name architectures; unknown ones pass through. */
    static String arch(String osArch) {
        return switch (osArch.toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64" -> "amd64";
            case "x86", "i386", "i486", "i586", "i686" -> "x86";
            case "aarch64", "arm64" -> "arm64";
            case "arm", "arm32" -> "arm";
            case "mips64el", "mipsel64" -> "mipsel64";
            default -> osArch.toLowerCase(Locale.ROOT);
        };
    }

    /** The OCI {@code linux.seccomp} for a container with {@code caps} in its bounding set, on this host. */
    static JsonNode forHost(Collection<String> caps) {
        return of(caps, HOST_ARCH, HOST_PTRACE_SAFE);
    }

    /** Whether a kernel release ({@code 6.1.0-18-amd64}) is at least {@code major.minor}. */
    static boolean kernelAtLeast(String release, int major, int minor) {
        String[] parts = release.strip().split("[.\\-+]", 3);
        try {
            int ma = Integer.parseInt(parts[0]);
            int mi = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
            return ma > major || (ma == major && mi >= minor);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static String osRelease() {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/kernel/osrelease"));
        } catch (java.io.IOException e) {
            return "";
        }
    }

    /**
     * The OCI {@code linux.seccomp} for a container with {@code caps} on a host of {@code arch} (as
     * {@link #arch} names it). An architecture we have no ABI list for gets none: the runtime then
     * filters the native ABI only.
     */
    static JsonNode of(Collection<String> caps, String arch, boolean ptraceSafeKernel) {
        ObjectNode p =
                JSON.createObjectNode().put("defaultAction", "SCMP_ACT_ERRNO").put("defaultErrnoRet", EPERM);
        ABIS.getOrDefault(arch, List.of()).forEach(p.putArray("architectures")::add);
        ArrayNode out = p.putArray("syscalls");
        ObjectNode first = out.addObject();
        ArrayNode plain = first.putArray("names");
        ALLOWED.forEach(group -> group.forEach(plain::add));
        first.put("action", "SCMP_ACT_ALLOW");
        List<Rule> rules = ptraceSafeKernel
                ? java.util.stream.Stream.concat(java.util.stream.Stream.of(PTRACE_RULE), RULES.stream())
                        .toList()
                : RULES;
        for (Rule r : rules) {
            if (!r.applies(caps, arch)) continue;
            ObjectNode o = out.addObject();
            r.names().forEach(o.putArray("names")::add);
            o.put("action", r.action());
            if (r.action().equals("SCMP_ACT_ERRNO")) o.put("errnoRet", r.errno());
            if (!r.args().isEmpty()) {
                ArrayNode args = o.putArray("args");
                for (Arg a : r.args()) {
                    args.addObject()
                            .put("index", a.index())
                            .put("value", a.value())
                            .put("valueTwo", a.valueTwo())
                            .put("op", a.op());
                }
            }
        }
        return p;
    }
}

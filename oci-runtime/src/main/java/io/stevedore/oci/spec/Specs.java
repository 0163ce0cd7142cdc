package io.stevedore.oci.spec;

import io.stevedore.oci.spec.Linux.Namespace;
import io.stevedore.oci.spec.Linux.NamespaceType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The default Linux spec and the options that shape it.
 *
 * <p>{@link #defaults()} is what containerd's CRI plugin starts a container from:
 * {@code populateDefaultUnixSpec} in {@code pkg/oci/spec.go}, with {@code defaultMounts()} minus
 * {@code /run} ({@code oci.WithoutRunMount}) plus the read-only {@code /sys/fs/cgroup} mount that
 * {@code internal/cri/opts.WithMounts} adds. One deliberate difference: {@code noNewPrivileges} is
 * false, as for a CRI container whose security context leaves it unset. {@code cgroupsPath} is left
 * empty for the caller to set.
 *
 * {@snippet :
 * Spec spec = Specs.apply(Specs.defaults(),
 *     Specs.withProcessArgs("/bin/sh", "-c", "echo hi"),
 *     Specs.withEnv(List.of("LANG=C.UTF-8")),
 *     Specs.withNamespace(Linux.NamespaceType.NETWORK, "/run/stevedore/netns/pod-a"),
 *     Specs.withCgroupsPath("/kubepods/pod-a/ctr-b"));
 * }
 */
public final class Specs {
    /** containerd's {@code defaultUnixCaps()}, in its order. */
    public static final List<String> DEFAULT_CAPABILITIES = List.of(
            "CAP_CHOWN",
            "CAP_DAC_OVERRIDE",
            "CAP_FSETID",
            "CAP_FOWNER",
            "CAP_MKNOD",
            "CAP_NET_RAW",
            "CAP_SETGID",
            "CAP_SETUID",
            "CAP_SETFCAP",
            "CAP_SETPCAP",
            "CAP_NET_BIND_SERVICE",
            "CAP_SYS_CHROOT",
            "CAP_KILL",
            "CAP_AUDIT_WRITE");

    public static final List<String> DEFAULT_MASKED_PATHS = List.of(
            "/proc/acpi",
            "/proc/asound",
            "/proc/kcore",
            "/proc/keys",
            "/proc/latency_stats",
            "/proc/timer_list",
            "/proc/timer_stats",
            "/proc/sched_debug",
            "/sys/firmware",
            "/sys/devices/virtual/powercap",
            "/proc/scsi");

    public static final List<String> DEFAULT_READONLY_PATHS =
            List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger");

    public static final List<Mount> DEFAULT_MOUNTS = List.of(
            new Mount("/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev")),
            new Mount("/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k")),
            new Mount(
                    "/dev/pts",
                    "devpts",
                    "devpts",
                    List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")),
            new Mount("/dev/shm", "tmpfs", "shm", List.of("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")),
            new Mount("/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev")),
            new Mount("/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", "ro")),
            new Mount("/sys/fs/cgroup", "cgroup", "cgroup", List.of("nosuid", "noexec", "nodev", "relatime", "ro")));

    public static final String DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private Specs() {}

    /** A new default spec (see the class comment); rootfs {@code rootfs}, relative to the bundle. */
    public static Spec defaults() {
        var caps = new Process.Capabilities(
                DEFAULT_CAPABILITIES, DEFAULT_CAPABILITIES, List.of(), DEFAULT_CAPABILITIES, List.of());
        var process = new Process(
                false,
                null,
                Process.User.ROOT,
                List.of(),
                List.of(DEFAULT_PATH),
                "/",
                caps,
                List.of(new Process.Rlimit("RLIMIT_NOFILE", 1024, 1024)),
                false,
                null,
                null,
                null);
        var namespaces = List.of(
                new Namespace(NamespaceType.PID),
                new Namespace(NamespaceType.IPC),
                new Namespace(NamespaceType.UTS),
                new Namespace(NamespaceType.MOUNT),
                new Namespace(NamespaceType.NETWORK));
        var linux = Linux.EMPTY
                .withResources(Resources.EMPTY.withDevices(List.of(Resources.DeviceRule.denyAll())))
                .withNamespaces(namespaces)
                .withMaskedPaths(DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS);
        return new Spec(Spec.VERSION, process, new Root("rootfs", false), null, DEFAULT_MOUNTS, null, null, linux);
    }

    /** {@code base} with each option applied in order. */
    public static Spec apply(Spec base, SpecOpt... opts) {
        Spec spec = base;
        for (SpecOpt opt : opts) {
            spec = opt.apply(spec);
        }
        return spec;
    }

    public static SpecOpt withProcessArgs(String... args) {
        return withProcessArgs(List.of(args));
    }

    public static SpecOpt withProcessArgs(List<String> args) {
        List<String> copy = List.copyOf(args);
        return spec -> spec.withProcess(process(spec).withArgs(copy));
    }

    /**
     * Merges {@code KEY=value} entries into the environment by key: an existing key is replaced in
     * place, a new one is appended, and a bare {@code KEY} (no {@code =}) removes the key, as
     * containerd's {@code replaceOrAppendEnvValues} does.
     */
    public static SpecOpt withEnv(List<String> env) {
        List<String> copy = List.copyOf(env);
        return spec ->
                spec.withProcess(process(spec).withEnv(mergeEnv(process(spec).env(), copy)));
    }

    public static SpecOpt withCwd(String cwd) {
        return spec -> spec.withProcess(process(spec).withCwd(cwd));
    }

    public static SpecOpt withUser(Process.User user) {
        return spec -> spec.withProcess(process(spec).withUser(user));
    }

    public static SpecOpt withUser(long uid, long gid) {
        return withUser(new Process.User(uid, gid));
    }

    public static SpecOpt withTerminal(boolean terminal) {
        return spec -> spec.withProcess(process(spec).withTerminal(terminal));
    }

    public static SpecOpt withHostname(String hostname) {
        return spec -> spec.withHostname(hostname);
    }

    /**
     * Adds mounts; an existing mount with the same destination is removed first, so a supplied
     * mount overrides a default one. New mounts keep their given order, after the existing ones.
     */
    public static SpecOpt withMounts(List<Mount> mounts) {
        List<Mount> copy = List.copyOf(mounts);
        Set<String> destinations = copy.stream().map(Mount::destination).collect(Collectors.toSet());
        return spec -> {
            List<Mount> out = new ArrayList<>();
            for (Mount m : spec.mounts()) {
                if (!destinations.contains(m.destination())) {
                    out.add(m);
                }
            }
            out.addAll(copy);
            return spec.withMounts(out);
        };
    }

    /** Replaces (in place) or adds the namespace of {@code type}; a null {@code path} creates a new one. */
    public static SpecOpt withNamespace(NamespaceType type, String path) {
        Namespace ns = new Namespace(type, path);
        return spec -> spec.withLinux(linux(spec).withNamespace(ns));
    }

    /** Removes the namespace of {@code type}: the container shares the runtime's (host) namespace. */
    public static SpecOpt withoutNamespace(NamespaceType type) {
        return spec -> spec.withLinux(linux(spec).withoutNamespace(type));
    }

    public static SpecOpt withCgroupsPath(String cgroupsPath) {
        return spec -> spec.withLinux(linux(spec).withCgroupsPath(cgroupsPath));
    }

    /** Replaces {@code linux.resources} whole. */
    public static SpecOpt withResources(Resources resources) {
        return spec -> spec.withLinux(linux(spec).withResources(resources));
    }

    /** Adds annotations; a key already present takes the new value. */
    public static SpecOpt withAnnotations(Map<String, String> annotations) {
        Map<String, String> copy = new HashMap<>(annotations);
        return spec -> {
            Map<String, String> merged = new TreeMap<>(spec.annotations());
            merged.putAll(copy);
            return spec.withAnnotations(merged);
        };
    }

    /** Sets {@code root.readonly}; the root defaults to {@code rootfs} when absent. */
    public static SpecOpt withReadonlyRootfs(boolean readonly) {
        return spec ->
                spec.withRoot((spec.root() == null ? new Root("rootfs", false) : spec.root()).withReadonly(readonly));
    }

    private static Process process(Spec spec) {
        return spec.process() == null ? Process.of(List.of()) : spec.process();
    }

    private static Linux linux(Spec spec) {
        return spec.linux() == null ? Linux.EMPTY : spec.linux();
    }

    static List<String> mergeEnv(List<String> base, List<String> overrides) {
        Map<String, String> byKey = new LinkedHashMap<>();
        for (String e : base) {
            byKey.put(key(e), e);
        }
        for (String e : overrides) {
            if (e.indexOf('=') < 0) {
                byKey.remove(e);
            } else {
                byKey.put(key(e), e);
            }
        }
        return List.copyOf(byKey.values());
    }

    private static String key(String env) {
        int eq = env.indexOf('=');
        return eq < 0 ? env : env.substring(0, eq);
    }
}

package io.stevedore.server.container.spec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What spec generation needs to know about the host, read once at startup from {@code /proc} and
 * {@code /sys/fs/cgroup}, for {@link ContainerSpecGenerator.Options#forThisHost()}.
 */
final class HostProbe {
    private static final Path CGROUP_ROOT = Path.of("/sys/fs/cgroup");

    private HostProbe() {}

    /** The daemon's own {@code oom_score_adj}: children may raise theirs but, without CAP_SYS_RESOURCE, not lower it. */
    static int oomScoreAdj() {
        return Integer.parseInt(read(Path.of("/proc/self/oom_score_adj")).strip());
    }

    /** The daemon's effective capabilities: all a privileged container can get (containerd's {@code cap.Current}). */
    static List<String> effectiveCapabilities() {
        return CapabilitySets.fromMask(capEff(read(Path.of("/proc/self/status"))));
    }

    /** Whether {@code /sys/fs/cgroup} is cgroup v2 only (unified). */
    static boolean cgroupV2() {
        return cgroupV2(CGROUP_ROOT);
    }

    /** Whether the cgroupfs at {@code root} is v2 only (a hybrid host's v2 sits in {@code unified/}). */
    static boolean cgroupV2(Path root) {
        return Files.exists(root.resolve("cgroup.controllers"));
    }

    /**
     * Whether swap can be limited, as containerd's {@code SwapControllerAvailable}: v1 has
     * {@code memory.memsw.limit_in_bytes} only with swap accounting on; v2 lacks
     * {@code memory.swap.max} in the root, so our own cgroup is checked.
     */
    static boolean swapLimitAvailable() {
        return swapLimitAvailable(CGROUP_ROOT, read(Path.of("/proc/self/cgroup")));
    }

    /**
     * {@link #swapLimitAvailable()} on the cgroupfs at {@code root}, for a process whose {@code
     * /proc/<pid>/cgroup} reads {@code procCgroup}. A daemon in the v2 root cgroup (in a container
     * with its own cgroup namespace) has no {@code memory.swap.max} of its own: there, any child
     * cgroup that has one answers.
     */
    static boolean swapLimitAvailable(Path root, String procCgroup) {
        if (!cgroupV2(root)) {
            return Files.exists(root.resolve("memory/memory.memsw.limit_in_bytes"));
        }
        Path own = root.resolve(unifiedPath(procCgroup).replaceFirst("^/+", ""));
        if (!own.equals(root)) {
            return Files.exists(own.resolve("memory.swap.max"));
        }
        try (var children = Files.list(root)) {
            return children.anyMatch(c -> Files.exists(c.resolve("memory.swap.max")));
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Whether AppArmor is enabled: {@code /sys/module/apparmor/parameters/enabled} reads {@code Y}, as
     * containerd's {@code apparmor.hostSupports} checks.
     */
    static boolean apparmorEnabled() {
        return apparmorEnabled(Path.of("/sys/module/apparmor/parameters/enabled"));
    }

    static boolean apparmorEnabled(Path enabledFile) {
        try {
            return Files.readString(enabledFile).startsWith("Y");
        } catch (IOException e) {
            return false; // no AppArmor module
        }
    }

    /** Whether SELinux is enabled: selinuxfs is mounted on {@code /sys/fs/selinux} (go-selinux checks the same). */
    static boolean selinuxEnabled() {
        return selinuxEnabled(Path.of("/sys/fs/selinux"));
    }

    static boolean selinuxEnabled(Path selinuxfs) {
        return Files.exists(selinuxfs.resolve("enforce"));
    }

    /** The {@code CapEff} mask of a {@code /proc/<pid>/status} text. */
    static long capEff(String status) {
        for (String line : status.split("\n")) {
            if (line.startsWith("CapEff:")) {
                return Long.parseUnsignedLong(line.substring("CapEff:".length()).strip(), 16);
            }
        }
        throw new IllegalArgumentException("no CapEff line in /proc/self/status");
    }

    /** The v2 path ({@code 0::/path}) of a {@code /proc/<pid>/cgroup} text; "/" when absent. */
    static String unifiedPath(String procCgroup) {
        for (String line : procCgroup.split("\n")) {
            if (line.startsWith("0::")) {
                return line.substring(3).strip();
            }
        }
        return "/";
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new UncheckedIOException("read " + p, e);
        }
    }
}

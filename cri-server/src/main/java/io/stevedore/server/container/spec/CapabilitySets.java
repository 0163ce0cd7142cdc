package io.stevedore.server.container.spec;

import io.stevedore.cri.v1.Capability;
import io.stevedore.oci.spec.Process;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code process.capabilities} from the CRI's add/drop lists, as containerd's
 * {@code WithCapabilities}: {@code ALL} in add sets every capability the daemon holds, {@code ALL}
 * in drop empties the sets, then single names are added (bounding, effective, permitted) and
 * dropped (those and inheritable). Ambient capabilities are always cleared (kubernetes#56374).
 */
final class CapabilitySets {
    /** Linux capabilities by number, through CAP_CHECKPOINT_RESTORE (40, Linux 5.9). */
    static final List<String> KNOWN = List.of(
            "CAP_CHOWN",
            "CAP_DAC_OVERRIDE",
            "CAP_DAC_READ_SEARCH",
            "CAP_FOWNER",
            "CAP_FSETID",
            "CAP_KILL",
            "CAP_SETGID",
            "CAP_SETUID",
            "CAP_SETPCAP",
            "CAP_LINUX_IMMUTABLE",
            "CAP_NET_BIND_SERVICE",
            "CAP_NET_BROADCAST",
            "CAP_NET_ADMIN",
            "CAP_NET_RAW",
            "CAP_IPC_LOCK",
            "CAP_IPC_OWNER",
            "CAP_SYS_MODULE",
            "CAP_SYS_RAWIO",
            "CAP_SYS_CHROOT",
            "CAP_SYS_PTRACE",
            "CAP_SYS_PACCT",
            "CAP_SYS_ADMIN",
            "CAP_SYS_BOOT",
            "CAP_SYS_NICE",
            "CAP_SYS_RESOURCE",
            "CAP_SYS_TIME",
            "CAP_SYS_TTY_CONFIG",
            "CAP_MKNOD",
            "CAP_LEASE",
            "CAP_AUDIT_WRITE",
            "CAP_AUDIT_CONTROL",
            "CAP_SETFCAP",
            "CAP_MAC_OVERRIDE",
            "CAP_MAC_ADMIN",
            "CAP_SYSLOG",
            "CAP_WAKE_ALARM",
            "CAP_BLOCK_SUSPEND",
            "CAP_AUDIT_READ",
            "CAP_PERFMON",
            "CAP_BPF",
            "CAP_CHECKPOINT_RESTORE");

    private CapabilitySets() {}

    /** {@code base} changed by the CRI's add and drop lists; {@code all} is what {@code ALL} adds. */
    static Process.Capabilities apply(Process.Capabilities base, Capability c, List<String> all) {
        Process.Capabilities caps = base;
        if (c.getAddCapabilitiesList().stream().anyMatch(CapabilitySets::isAll)) {
            caps = only(caps, all);
        }
        if (c.getDropCapabilitiesList().stream().anyMatch(CapabilitySets::isAll)) {
            caps = only(caps, List.of());
        }
        List<String> bounding = new ArrayList<>(caps.bounding());
        List<String> effective = new ArrayList<>(caps.effective());
        List<String> permitted = new ArrayList<>(caps.permitted());
        List<String> inheritable = new ArrayList<>(caps.inheritable());
        for (String add : c.getAddCapabilitiesList()) {
            if (!isAll(add)) {
                String name = normalize(add);
                for (List<String> set : List.of(bounding, effective, permitted)) {
                    if (!set.contains(name)) {
                        set.add(name);
                    }
                }
            }
        }
        for (String drop : c.getDropCapabilitiesList()) {
            String name = normalize(drop);
            for (List<String> set : List.of(bounding, effective, permitted, inheritable)) {
                set.remove(name);
            }
        }
        return new Process.Capabilities(bounding, effective, inheritable, permitted, List.of());
    }

    /**
     * Exactly {@code caps} in bounding, effective and permitted ({@code oci.WithCapabilities});
     * inheritable keeps only members of {@code caps}; no ambient.
     */
    static Process.Capabilities only(Process.Capabilities base, List<String> caps) {
        List<String> inheritable = base == null
                ? List.of()
                : base.inheritable().stream().filter(caps::contains).toList();
        return new Process.Capabilities(caps, caps, inheritable, caps, List.of());
    }

    /** The names of the capabilities set in a {@code /proc/<pid>/status} mask such as {@code CapEff}. */
    static List<String> fromMask(long mask) {
        List<String> out = new ArrayList<>();
        for (int bit = 0; bit < KNOWN.size(); bit++) {
            if ((mask & (1L << bit)) != 0) {
                out.add(KNOWN.get(bit));
            }
        }
        return out;
    }

    /** The CRI names capabilities without the prefix ({@code NET_ADMIN}); the spec wants {@code CAP_NET_ADMIN}. */
    static String normalize(String name) {
        String upper = name.toUpperCase(Locale.ROOT);
        return upper.startsWith("CAP_") ? upper : "CAP_" + upper;
    }

    private static boolean isAll(String name) {
        return name.equalsIgnoreCase("ALL");
    }
}

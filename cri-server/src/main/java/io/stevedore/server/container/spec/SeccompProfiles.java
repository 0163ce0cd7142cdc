package io.stevedore.server.container.spec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stevedore.cri.v1.LinuxContainerSecurityContext;
import io.stevedore.cri.v1.SecurityProfile;
import io.stevedore.oci.linux.UntrustedFiles;
import io.stevedore.server.error.CriException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A container's seccomp filter (OCI {@code linux.seccomp}) from its CRI security context, chosen as
 * containerd chooses it: none for a privileged container; the {@code seccomp} profile when set,
 * else the deprecated {@code seccomp_profile_path} ({@code ""} and {@code unconfined}: none;
 * {@code runtime/default} and {@code docker/default}: ours; {@code localhost/<absolute path>}: that
 * file; anything else is refused).
 *
 * <p>Our runtime default differs from Docker's and containerd's in shape: it allows by default and
 * denies (EPERM) a list of syscalls, where theirs allows a list. It denies what their profile keeps
 * from a container without extra capabilities: kernel modules, kexec, keyrings, reboot, swap,
 * clock setting, mounts and namespaces, BPF, perf, userfaultfd, io_uring, obsolete calls. A group
 * tied to a capability is allowed when the container holds it, as their {@code includes.caps}
 * rules do. It covers the x86-64, x86 and x32 ABIs (a call through any other is killed).
 *
 * <p>A localhost profile is read in the Docker/containerd JSON format; {@code includes} and
 * {@code excludes} on capabilities are applied against the container's bounding set.
 */
final class SeccompProfiles {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> ARCHES = List.of("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32");

    /** Denied unless the container holds the key capability ("" = always denied). */
    private static final Map<String, List<String>> DENIED = Map.ofEntries(
            Map.entry(
                    "",
                    List.of(
                            "kexec_load",
                            "kexec_file_load",
                            "add_key",
                            "keyctl",
                            "request_key",
                            "userfaultfd",
                            "uselib",
                            "ustat",
                            "sysfs",
                            "_sysctl",
                            "create_module",
                            "get_kernel_syms",
                            "query_module",
                            "nfsservctl",
                            "vm86",
                            "vm86old",
                            "swapon",
                            "swapoff",
                            "io_uring_setup",
                            "io_uring_enter",
                            "io_uring_register")),
            Map.entry(
                    "CAP_SYS_ADMIN",
                    List.of(
                            "mount",
                            "umount",
                            "umount2",
                            "pivot_root",
                            "unshare",
                            "setns",
                            "sethostname",
                            "setdomainname",
                            "name_to_handle_at",
                            "fanotify_init",
                            "lookup_dcookie",
                            "quotactl",
                            "perf_event_open",
                            "bpf",
                            "fsopen",
                            "fsconfig",
                            "fsmount",
                            "fspick",
                            "move_mount",
                            "open_tree",
                            "mount_setattr")),
            Map.entry("CAP_SYS_MODULE", List.of("init_module", "finit_module", "delete_module")),
            Map.entry("CAP_SYS_BOOT", List.of("reboot")),
            Map.entry("CAP_SYS_TIME", List.of("settimeofday", "stime", "clock_settime", "clock_adjtime")),
            Map.entry("CAP_SYS_RAWIO", List.of("iopl", "ioperm")),
            Map.entry("CAP_SYS_PACCT", List.of("acct")),
            Map.entry("CAP_SYS_PTRACE", List.of("kcmp", "process_vm_readv", "process_vm_writev")),
            Map.entry("CAP_SYS_NICE", List.of("get_mempolicy", "set_mempolicy", "mbind", "move_pages")),
            Map.entry("CAP_SYSLOG", List.of("syslog")),
            Map.entry("CAP_DAC_READ_SEARCH", List.of("open_by_handle_at")),
            Map.entry("CAP_SYS_CHROOT", List.of("chroot")));

    private SeccompProfiles() {}

    /** The filter for a container with {@code caps} in its bounding set; empty for none. */
    static Optional<JsonNode> of(LinuxContainerSecurityContext sc, Collection<String> caps, String action) {
        if (sc.getPrivileged()) return Optional.empty();
        if (sc.hasSeccomp()) {
            SecurityProfile p = sc.getSeccomp();
            return switch (p.getProfileType()) {
                case RuntimeDefault -> Optional.of(runtimeDefault(caps));
                case Unconfined -> Optional.empty();
                case Localhost -> Optional.of(localhost(p.getLocalhostRef(), caps, action));
                default ->
                    throw new CriException.InvalidArgument(
                            action + ": unknown seccomp profile type " + p.getProfileTypeValue());
            };
        }
        String path = sc.getSeccompProfilePath();
        return switch (path) {
            case "", "unconfined" -> Optional.empty();
            case "runtime/default", "docker/default" -> Optional.of(runtimeDefault(caps));
            default -> {
                if (!path.startsWith("localhost/")) {
                    throw new CriException.InvalidArgument(action + ": unsupported seccomp profile \"" + path
                            + "\": use \"unconfined\", \"runtime/default\" or \"localhost/<absolute path>\"");
                }
                yield Optional.of(localhost(path.substring("localhost/".length()), caps, action));
            }
        };
    }

    static JsonNode runtimeDefault(Collection<String> caps) {
        ObjectNode p = JSON.createObjectNode().put("defaultAction", "SCMP_ACT_ALLOW");
        ARCHES.forEach(p.putArray("architectures")::add);
        ArrayNode names = JSON.createArrayNode();
        DENIED.entrySet().stream()
                .sorted(Map.Entry.comparingByKey())
                .filter(e -> e.getKey().isEmpty() || !caps.contains(e.getKey()))
                .forEach(e -> e.getValue().forEach(names::add));
        ObjectNode deny = p.putArray("syscalls").addObject();
        deny.set("names", names);
        deny.put("action", "SCMP_ACT_ERRNO").put("errnoRet", 1);
        return p;
    }

    /** A seccomp profile is kilobytes (Docker's default is ~20 KB); more is refused. */
    static final int MAX_PROFILE_BYTES = 1 << 20;
    /** A profile on a file system that does not answer in this time fails the request. */
    static final java.time.Duration READ_TIMEOUT = java.time.Duration.ofSeconds(5);

    private static JsonNode localhost(String ref, Collection<String> caps, String action) {
        Path file = Path.of(ref);
        if (!file.isAbsolute()) {
            throw new CriException.InvalidArgument(
                    action + ": seccomp profile \"" + ref + "\" is not an absolute path");
        }
        byte[] raw;
        try {
            raw = UntrustedFiles.readRegular(file, MAX_PROFILE_BYTES, READ_TIMEOUT);
        } catch (IOException e) {
            // The message names the path and the reason (ENOENT, not a regular file, too large…).
            throw new CriException.InvalidArgument(action + ": cannot read seccomp profile: " + e.getMessage());
        }
        JsonNode in;
        try {
            in = JSON.readTree(raw);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            // Never Jackson's message: it quotes the file ("Unrecognized token 'root'"), which would
            // let a pod author read any file on the host through an error.
            var at = e.getLocation();
            throw new CriException.InvalidArgument(action + ": seccomp profile \"" + ref + "\" is not JSON"
                    + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"));
        } catch (IOException e) {
            throw new CriException.InvalidArgument(action + ": seccomp profile \"" + ref + "\" is not JSON");
        }
        if (in == null || !in.isObject() || !in.path("defaultAction").isTextual()) {
            throw new CriException.InvalidArgument(action + ": seccomp profile \"" + ref + "\" has no defaultAction");
        }
        ObjectNode out = JSON.createObjectNode();
        for (String f : List.of("defaultAction", "defaultErrnoRet", "architectures", "flags")) {
            if (in.has(f)) out.set(f, in.get(f));
        }
        if (!in.has("architectures") && in.path("archMap").isArray()) {
            ArrayNode arches = out.putArray("architectures");
            for (JsonNode m : in.get("archMap")) {
                arches.add(m.path("architecture"));
                m.path("subArchitectures").forEach(arches::add);
            }
        }
        ArrayNode rules = out.putArray("syscalls");
        for (JsonNode r : in.path("syscalls")) {
            if (!applies(r, caps)) continue;
            ObjectNode o = rules.addObject();
            if (r.has("names")) o.set("names", r.get("names"));
            else if (r.has("name")) o.putArray("names").add(r.get("name"));
            for (String f : List.of("action", "errnoRet", "args")) {
                if (r.has(f)) o.set(f, r.get(f));
            }
        }
        return out;
    }

    /** Docker's conditions on a rule: {@code includes.caps} all held, no {@code excludes.caps} held. */
    private static boolean applies(JsonNode rule, Collection<String> caps) {
        for (JsonNode c : rule.path("includes").path("caps")) {
            if (!caps.contains(c.asText())) return false;
        }
        for (JsonNode c : rule.path("excludes").path("caps")) {
            if (caps.contains(c.asText())) return false;
        }
        return true;
    }
}

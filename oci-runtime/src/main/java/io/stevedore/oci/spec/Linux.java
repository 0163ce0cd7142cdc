package io.stevedore.oci.spec;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonInclude.Include;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Linux-specific configuration ({@code linux}).
 *
 * <p>{@code seccomp} is kept as raw JSON and passed through unchanged; the record holds a private
 * copy and its accessor returns another, so the record stays immutable.
 */
@JsonInclude(Include.NON_EMPTY)
public record Linux(
        List<IdMapping> uidMappings,
        List<IdMapping> gidMappings,
        Map<String, String> sysctl,
        Resources resources,
        String cgroupsPath,
        List<Namespace> namespaces,
        List<Device> devices,
        JsonNode seccomp,
        String rootfsPropagation,
        List<String> maskedPaths,
        List<String> readonlyPaths,
        String mountLabel) {
    public static final Linux EMPTY = new Linux(null, null, null, null, null, null, null, null, null, null, null, null);

    public Linux {
        uidMappings = Copies.list(uidMappings);
        gidMappings = Copies.list(gidMappings);
        sysctl = Copies.map(sysctl);
        namespaces = Copies.list(namespaces);
        devices = Copies.list(devices);
        seccomp = seccomp == null || seccomp.isNull() || seccomp.isMissingNode() ? null : seccomp.deepCopy();
        maskedPaths = Copies.list(maskedPaths);
        readonlyPaths = Copies.list(readonlyPaths);
    }

    /** A copy of the seccomp profile, or null. */
    @Override
    public JsonNode seccomp() {
        return seccomp == null ? null : seccomp.deepCopy();
    }

    public Linux withResources(Resources resources) {
        return new Linux(
                uidMappings,
                gidMappings,
                sysctl,
                resources,
                cgroupsPath,
                namespaces,
                devices,
                seccomp,
                rootfsPropagation,
                maskedPaths,
                readonlyPaths,
                mountLabel);
    }

    public Linux withCgroupsPath(String cgroupsPath) {
        return new Linux(
                uidMappings,
                gidMappings,
                sysctl,
                resources,
                cgroupsPath,
                namespaces,
                devices,
                seccomp,
                rootfsPropagation,
                maskedPaths,
                readonlyPaths,
                mountLabel);
    }

    public Linux withNamespaces(List<Namespace> namespaces) {
        return new Linux(
                uidMappings,
                gidMappings,
                sysctl,
                resources,
                cgroupsPath,
                namespaces,
                devices,
                seccomp,
                rootfsPropagation,
                maskedPaths,
                readonlyPaths,
                mountLabel);
    }

    public Linux withDevices(List<Device> devices) {
        return new Linux(
                uidMappings,
                gidMappings,
                sysctl,
                resources,
                cgroupsPath,
                namespaces,
                devices,
                seccomp,
                rootfsPropagation,
                maskedPaths,
                readonlyPaths,
                mountLabel);
    }

    public Linux withSysctl(Map<String, String> sysctl) {
        return new Linux(
                uidMappings,
                gidMappings,
                sysctl,
                resources,
                cgroupsPath,
                namespaces,
                devices,
                seccomp,
                rootfsPropagation,
                maskedPaths,
                readonlyPaths,
                mountLabel);
    }

    public Linux withSeccomp(JsonNode seccomp) {
        return new Linux(
                uidMappings,
                gidMappings,
                sysctl,
                resources,
                cgroupsPath,
                namespaces,
                devices,
                seccomp,
                rootfsPropagation,
                maskedPaths,
                readonlyPaths,
                mountLabel);
    }

    public Linux withMaskedPaths(List<String> maskedPaths, List<String> readonlyPaths) {
        return new Linux(
                uidMappings,
                gidMappings,
                sysctl,
                resources,
                cgroupsPath,
                namespaces,
                devices,
                seccomp,
                rootfsPropagation,
                maskedPaths,
                readonlyPaths,
                mountLabel);
    }

    /** {@code rootfsPropagation}: {@code rprivate}, {@code rslave} or {@code rshared}; null for the runtime's default. */
    public Linux withRootfsPropagation(String rootfsPropagation) {
        return new Linux(
                uidMappings,
                gidMappings,
                sysctl,
                resources,
                cgroupsPath,
                namespaces,
                devices,
                seccomp,
                rootfsPropagation,
                maskedPaths,
                readonlyPaths,
                mountLabel);
    }

    /** The namespaces with the one of {@code type} replaced (in place) or appended. */
    public Linux withNamespace(Namespace ns) {
        List<Namespace> out = new ArrayList<>(namespaces.size() + 1);
        boolean replaced = false;
        for (Namespace n : namespaces) {
            if (n.type() == ns.type()) {
                if (!replaced) {
                    out.add(ns);
                }
                replaced = true;
            } else {
                out.add(n);
            }
        }
        if (!replaced) {
            out.add(ns);
        }
        return withNamespaces(out);
    }

    /** Without a namespace of {@code type}: the container shares the runtime's. */
    public Linux withoutNamespace(NamespaceType type) {
        return withNamespaces(namespaces.stream().filter(n -> n.type() != type).toList());
    }

    /** A user or group ID mapping ({@code uidMappings}, {@code gidMappings}); Go {@code uint32}s. */
    public record IdMapping(long containerID, long hostID, long size) {}

    /**
     * A namespace to create, or to join when {@code path} is set.
     *
     * @param path e.g. {@code /run/stevedore/netns/abc}; null to create a new one
     */
    @JsonInclude(Include.NON_EMPTY)
    public record Namespace(@JsonInclude(Include.ALWAYS) NamespaceType type, String path) {
        public Namespace {
            Objects.requireNonNull(type, "type");
        }

        public Namespace(NamespaceType type) {
            this(type, null);
        }
    }

    /** Namespace types, with their JSON names. */
    public enum NamespaceType {
        PID("pid"),
        NETWORK("network"),
        MOUNT("mount"),
        IPC("ipc"),
        UTS("uts"),
        USER("user"),
        CGROUP("cgroup"),
        TIME("time");

        private final String json;

        NamespaceType(String json) {
            this.json = json;
        }

        @JsonValue
        public String json() {
            return json;
        }

        @JsonCreator
        public static NamespaceType of(String json) {
            for (NamespaceType t : values()) {
                if (t.json.equals(json)) {
                    return t;
                }
            }
            throw new IllegalArgumentException("unknown namespace type \"" + json + "\"");
        }
    }

    /**
     * A device node to create in the container ({@code linux.devices}).
     *
     * @param type {@code c}, {@code b}, {@code u} or {@code p}
     * @param fileMode permission bits, e.g. {@code 0666} ({@code 438} in JSON); null for the default
     */
    @JsonInclude(Include.NON_NULL)
    public record Device(String path, String type, long major, long minor, Integer fileMode, Long uid, Long gid) {
        public Device {
            Objects.requireNonNull(path, "path");
            Objects.requireNonNull(type, "type");
        }
    }
}

package io.stevedore.server.grpc;

import io.stevedore.cri.v1.ContainerConfig;
import io.stevedore.cri.v1.ImageSpec;
import io.stevedore.cri.v1.PodSandboxConfig;
import io.stevedore.server.error.CriException;
import java.util.List;

/**
 * Validation of the fields a CRI request cannot do without. Failures are INVALID_ARGUMENT and
 * name the field as it is spelled in the protocol, so the caller can find it.
 */
public final class Requests {
    private Requests() {}

    /** An object id (or unique prefix) that must be present. */
    public static String requireId(String value, String field) {
        if (value == null || value.isBlank()) {
            throw new CriException.InvalidArgument(field + " must not be empty");
        }
        return value;
    }

    /** A command line that must have at least its program. */
    public static List<String> requireCommand(List<String> cmd, String field) {
        if (cmd.isEmpty() || cmd.getFirst().isEmpty()) {
            throw new CriException.InvalidArgument(field + " must name a command to run");
        }
        return cmd;
    }

    /** An image reference that must be present. */
    public static ImageSpec requireImage(boolean present, ImageSpec spec, String field) {
        if (!present || spec.getImage().isBlank()) {
            throw new CriException.InvalidArgument(field + ".image must not be empty");
        }
        return spec;
    }

    /** A pod config with the metadata kubelet always sends: name, namespace and uid. */
    public static PodSandboxConfig requirePodConfig(boolean present, PodSandboxConfig config) {
        if (!present) {
            throw new CriException.InvalidArgument("config must be set");
        }
        if (!config.hasMetadata()) {
            throw new CriException.InvalidArgument("config.metadata must be set");
        }
        var m = config.getMetadata();
        requireName(m.getName(), "config.metadata.name");
        requireName(m.getNamespace(), "config.metadata.namespace");
        requireName(m.getUid(), "config.metadata.uid");
        for (var pm : config.getPortMappingsList()) {
            checkPortMapping(pm);
        }
        checkStringMap(config.getLabelsMap(), "config.labels");
        checkStringMap(config.getAnnotationsMap(), "config.annotations");
        checkHostname(config.getHostname());
        checkPath(config.getLogDirectory(), "config.log_directory");
        checkCgroupParent(config.getLinux().getCgroupParent());
        checkSysctls(config);
        config.getLinux().getSysctlsMap().forEach((k, v) -> {
            if (!printable(k) || k.isEmpty() || !printable(v) || k.length() > 253 || v.length() > 4096) {
                throw new CriException.InvalidArgument("config.linux.sysctls: \"" + CriException.shown(k) + "\" = \""
                        + CriException.shown(v) + "\" must be printable, without control characters");
            }
        });
        return config;
    }

    /** Sysctls per pod, at most: the pinner's bound. */
    static final int MAX_SYSCTLS = 128;

    /**
     * Only sysctls of the namespaces the pod gets of its own (as runc checks them): {@code net.*}
     * with its own network namespace, {@code kernel.shm*}, {@code kernel.msg*}, {@code kernel.sem*}
     * and {@code fs.mqueue.*} with its own IPC namespace; anything else would change the host.
     */
    static void checkSysctls(PodSandboxConfig config) {
        var sysctls = config.getLinux().getSysctlsMap();
        if (sysctls.size() > MAX_SYSCTLS) {
            throw new CriException.InvalidArgument(
                    "config.linux.sysctls: " + sysctls.size() + " entries, at most " + MAX_SYSCTLS);
        }
        var ns = config.getLinux().getSecurityContext().getNamespaceOptions();
        for (String key : sysctls.keySet()) {
            String k = key.replace('/', '.');
            boolean net = k.startsWith("net.");
            boolean ipc = k.startsWith("kernel.shm")
                    || k.startsWith("kernel.msg")
                    || k.startsWith("kernel.sem")
                    || k.startsWith("fs.mqueue.");
            String why = !net && !ipc
                    ? "is not a namespaced sysctl (net.*, kernel.shm*, kernel.msg*, kernel.sem*, fs.mqueue.*)"
                    : net && ns.getNetwork() == io.stevedore.cri.v1.NamespaceMode.NODE
                            ? "needs the pod's own network namespace"
                            : ipc && ns.getIpc() == io.stevedore.cri.v1.NamespaceMode.NODE
                                    ? "needs the pod's own IPC namespace"
                                    : null;
            if (why != null) {
                throw new CriException.InvalidArgument(
                        "config.linux.sysctls: \"" + CriException.shown(key) + "\" " + why);
            }
        }
    }

    /** The longest name, namespace or uid we take (a DNS subdomain, as Kubernetes names are). */
    static final int MAX_NAME = 253;

    /**
     * A metadata name: present, at most {@link #MAX_NAME} characters, no control characters (a
     * NUL or a newline reaches file names, CNI arguments and logs) and no {@code /}.
     */
    public static String requireName(String value, String field) {
        requireId(value, field);
        if (value.length() > MAX_NAME || !printable(value) || value.indexOf('/') >= 0) {
            throw new CriException.InvalidArgument(field + " \"" + CriException.shown(value) + "\" must be at most "
                    + MAX_NAME + " characters, without '/' or control characters");
        }
        return value;
    }

    private static void checkPortMapping(io.stevedore.cri.v1.PortMapping pm) {
        if (pm.getContainerPort() < 1 || pm.getContainerPort() > 65535) {
            throw new CriException.InvalidArgument(
                    "config.port_mappings: container_port " + pm.getContainerPort() + " is not in 1-65535");
        }
        if (pm.getHostPort() < 0 || pm.getHostPort() > 65535) {
            throw new CriException.InvalidArgument(
                    "config.port_mappings: host_port " + pm.getHostPort() + " is not in 0-65535");
        }
        if (pm.getProtocol() == io.stevedore.cri.v1.Protocol.UNRECOGNIZED) {
            throw new CriException.InvalidArgument(
                    "config.port_mappings: protocol " + pm.getProtocolValue() + " is not TCP, UDP or SCTP");
        }
        if (!pm.getHostIp().isEmpty() && !com.google.common.net.InetAddresses.isInetAddress(pm.getHostIp())) {
            throw new CriException.InvalidArgument("config.port_mappings: host_ip \""
                    + CriException.shown(pm.getHostIp()) + "\" is not an IP address");
        }
    }

    private static boolean printable(String s) {
        return s.chars().noneMatch(c -> c < 0x20 || c == 0x7f);
    }

    /** A container config with a name and an image. */
    public static ContainerConfig requireContainerConfig(boolean present, ContainerConfig config) {
        if (!present) {
            throw new CriException.InvalidArgument("config must be set");
        }
        if (!config.hasMetadata()) {
            throw new CriException.InvalidArgument("config.metadata must be set");
        }
        requireName(config.getMetadata().getName(), "config.metadata.name");
        requireImage(config.hasImage(), config.getImage(), "config.image");
        checkStringMap(config.getLabelsMap(), "config.labels");
        checkStringMap(config.getAnnotationsMap(), "config.annotations");
        checkProcess(config);
        checkPath(config.getWorkingDir(), "config.working_dir");
        for (var m : config.getMountsList()) {
            checkPath(m.getContainerPath(), "config.mounts.container_path");
            checkPath(m.getHostPath(), "config.mounts.host_path");
        }
        for (var d : config.getDevicesList()) {
            checkPath(d.getContainerPath(), "config.devices.container_path");
            checkPath(d.getHostPath(), "config.devices.host_path");
        }
        return config;
    }

    /**
     * Characters of one label or annotation map's keys and values together, at most: the API
     * server's own bound on a pod's annotations (256 KiB).
     */
    static final int MAX_MAP_CHARS = 256 << 10;

    /** The longest label or annotation key: a DNS-subdomain prefix, '/', a 63-character name. */
    static final int MAX_KEY = 253 + 1 + 63;

    /** Labels or annotations: keys printable and bounded, the whole map within {@link #MAX_MAP_CHARS}. */
    static void checkStringMap(java.util.Map<String, String> map, String field) {
        long chars = 0;
        for (var e : map.entrySet()) {
            String k = e.getKey();
            if (k.isEmpty() || k.length() > MAX_KEY || !printable(k)) {
                throw new CriException.InvalidArgument(field + ": key \"" + CriException.shown(k) + "\" must be 1-"
                        + MAX_KEY + " characters, without control characters");
            }
            chars += k.length() + e.getValue().length();
        }
        if (chars > MAX_MAP_CHARS) {
            throw new CriException.InvalidArgument(
                    field + ": " + chars + " characters of keys and values, at most " + MAX_MAP_CHARS);
        }
    }

    /** One argument or environment entry, at most: the kernel's MAX_ARG_STRLEN, less its NUL. */
    static final int MAX_ARG = (128 << 10) - 1;

    /** Command, arguments and environment together, at most: what execve takes at an 8 MiB stack. */
    static final int MAX_EXEC_CHARS = 2 << 20;

    /**
     * Command, args and envs as execve will take them: no NUL (it would end the string), each
     * within {@link #MAX_ARG}, all within {@link #MAX_EXEC_CHARS}; an environment key is not empty
     * and has no '='.
     */
    static void checkProcess(ContainerConfig config) {
        long chars = 0;
        chars += checkArgs(config.getCommandList(), "config.command");
        chars += checkArgs(config.getArgsList(), "config.args");
        for (var kv : config.getEnvsList()) {
            String k = kv.getKey();
            if (k.isEmpty() || k.indexOf('=') >= 0 || k.indexOf('\0') >= 0 || k.length() > MAX_ARG) {
                throw new CriException.InvalidArgument(
                        "config.envs: key \"" + CriException.shown(k) + "\" must be non-empty, without '=' or NUL");
            }
            var value = kv.getValue();
            if (hasNul(value) || k.length() + 1 + value.size() > MAX_ARG) {
                throw new CriException.InvalidArgument("config.envs: value of \"" + CriException.shown(k)
                        + "\" must be without NUL and at most " + MAX_ARG + " characters with its key");
            }
            chars += k.length() + 1 + value.size();
        }
        if (chars > MAX_EXEC_CHARS) {
            throw new CriException.InvalidArgument(
                    "config: command, args and envs are " + chars + " characters, at most " + MAX_EXEC_CHARS);
        }
    }

    private static boolean hasNul(com.google.protobuf.ByteString b) {
        for (int i = 0; i < b.size(); i++) {
            if (b.byteAt(i) == 0) return true;
        }
        return false;
    }

    private static long checkArgs(List<String> args, String field) {
        long chars = 0;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.indexOf('\0') >= 0 || a.length() > MAX_ARG) {
                throw new CriException.InvalidArgument(
                        field + "[" + i + "] must be without NUL and at most " + MAX_ARG + " characters");
            }
            chars += a.length() + 1;
        }
        return chars;
    }

    /** A path field: empty (unset), or at most PATH_MAX characters without NUL. */
    static void checkPath(String value, String field) {
        if (value.length() > 4096 || value.indexOf('\0') >= 0) {
            throw new CriException.InvalidArgument(
                    field + " \"" + CriException.shown(value) + "\" must be at most 4096 characters, without NUL");
        }
    }

    /** A hostname as sethostname(2) takes it: at most 64 characters, printable, no space or '/'. */
    static void checkHostname(String hostname) {
        if (hostname.length() > 64 || !hostname.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != '/')) {
            throw new CriException.InvalidArgument("config.hostname \"" + CriException.shown(hostname)
                    + "\" must be at most 64 printable characters, without spaces or '/'");
        }
    }

    /** A cgroup parent beneath the cgroup root: printable, no {@code ..} component. */
    static void checkCgroupParent(String parent) {
        checkPath(parent, "config.linux.cgroup_parent");
        boolean ok = printable(parent);
        for (String part : parent.split("/")) {
            if (part.equals("..")) ok = false;
        }
        if (!ok) {
            throw new CriException.InvalidArgument("config.linux.cgroup_parent \"" + CriException.shown(parent)
                    + "\" must be printable, without '..' components");
        }
    }
}

package io.stevedore.server.container.spec;

import io.stevedore.cri.v1.ContainerConfig;
import io.stevedore.cri.v1.LinuxContainerResources;
import io.stevedore.cri.v1.LinuxContainerSecurityContext;
import io.stevedore.oci.spec.Linux;
import io.stevedore.oci.spec.Mount;
import io.stevedore.oci.spec.Process;
import io.stevedore.oci.spec.Resources;
import io.stevedore.oci.spec.Root;
import io.stevedore.oci.spec.Spec;
import io.stevedore.oci.spec.Specs;
import io.stevedore.server.error.CriException;
import io.stevedore.server.image.manifest.ImageConfig;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Builds a container's OCI spec ({@code config.json}) from its CRI config, its pod and its image,
 * as containerd's CRI plugin does ({@code buildLinuxSpec} in
 * {@code internal/cri/server/container_create_linux.go}, the options in
 * {@code internal/cri/opts/spec_linux_opts.go}), starting from {@link Specs#defaults()}.
 *
 * <p>Where we differ from containerd, on purpose: a missing mount host path is refused rather than
 * created; empty CRI {@code masked_paths}/{@code readonly_paths} keep the default lists rather
 * than unmasking everything; the default {@code RLIMIT_NOFILE} stays; every CRI annotation is
 * passed to the runtime; an AppArmor or SELinux request this host or runtime cannot apply is
 * refused rather than ignored ({@link SecurityModules}). Seccomp is as the CRI asks: {@code
 * RuntimeDefault} is our default profile, {@code Localhost} a profile file read as untrusted input
 * ({@link SeccompProfiles}), unset or {@code Unconfined} none.
 *
 * <p>Thread-safe and stateless apart from the host facts in {@link Options}. Reads the rootfs's
 * {@code /etc/passwd} and {@code /etc/group}, stats mount host paths and device nodes; writes
 * nothing.
 */
public final class ContainerSpecGenerator {
    /** containerd's annotation names ({@code internal/cri/annotations}); runtimes and hooks key on them. */
    public static final String CONTAINER_TYPE = "io.kubernetes.cri.container-type";

    public static final String SANDBOX_ID = "io.kubernetes.cri.sandbox-id";
    public static final String SANDBOX_NAMESPACE = "io.kubernetes.cri.sandbox-namespace";
    public static final String SANDBOX_UID = "io.kubernetes.cri.sandbox-uid";
    public static final String SANDBOX_NAME = "io.kubernetes.cri.sandbox-name";
    public static final String CONTAINER_NAME = "io.kubernetes.cri.container-name";
    public static final String IMAGE_NAME = "io.kubernetes.cri.image-name";

    /**
     * Host facts that shape every spec.
     *
     * @param oomScoreAdjFloor the daemon's own {@code oom_score_adj}; a container's is never set
     *     lower, because lowering it needs CAP_SYS_RESOURCE and runc would fail with EPERM
     * @param allCapabilities what {@code ALL} and privileged grant: the daemon's effective set, as
     *     containerd's {@code cap.Current()} (runc cannot grant more than it holds)
     * @param cgroupNamespace give unprivileged containers their own cgroup namespace (containerd does
     *     on cgroup v2 only)
     * @param swapLimitAvailable whether the memory controller can limit swap; when it cannot,
     *     {@code linux.resources.memory.swap} is never set
     * @param apparmorEnabled whether the host has AppArmor ({@link SecurityModules})
     * @param selinuxEnabled whether the host has SELinux ({@link SecurityModules})
     */
    public record Options(
            int oomScoreAdjFloor,
            List<String> allCapabilities,
            boolean cgroupNamespace,
            boolean swapLimitAvailable,
            boolean apparmorEnabled,
            boolean selinuxEnabled) {
        public Options {
            if (oomScoreAdjFloor < -1000 || oomScoreAdjFloor > 1000) {
                throw new IllegalArgumentException("oomScoreAdjFloor " + oomScoreAdjFloor + " is not in [-1000, 1000]");
            }
            allCapabilities = List.copyOf(allCapabilities);
        }

        /** A host without AppArmor or SELinux. */
        public Options(
                int oomScoreAdjFloor,
                List<String> allCapabilities,
                boolean cgroupNamespace,
                boolean swapLimitAvailable) {
            this(oomScoreAdjFloor, allCapabilities, cgroupNamespace, swapLimitAvailable, false, false);
        }

        /** Read from this process and host: {@code /proc/self/{oom_score_adj,status,cgroup}}, {@code /sys/fs/cgroup}. */
        public static Options forThisHost() {
            return new Options(
                    HostProbe.oomScoreAdj(),
                    HostProbe.effectiveCapabilities(),
                    HostProbe.cgroupV2(),
                    HostProbe.swapLimitAvailable(),
                    HostProbe.apparmorEnabled(),
                    HostProbe.selinuxEnabled());
        }
    }

    private final Options options;

    public ContainerSpecGenerator(Options options) {
        this.options = Objects.requireNonNull(options, "options");
    }

    /**
     * The spec of a new container.
     *
     * @param rootfs the container's mounted rootfs, absolute; becomes {@code root.path}
     * @throws CriException.InvalidArgument when the config asks for something impossible: no
     *     command, an unknown user or group name, a missing mount host path or device, a privileged
     *     container in an unprivileged pod; PID mode TARGET or an image volume (this overload has
     *     none resolved)
     * @throws CriException.Unimplemented for user namespaces
     * @throws UncheckedIOException when a host or rootfs file cannot be read
     */
    public Spec generate(String containerId, ContainerConfig config, PodContext pod, ImageConfig image, Path rootfs) {
        return generate(containerId, config, pod, image, rootfs, HostInputs.NONE);
    }

    /**
     * The spec of a new container whose target PID namespace and image volumes CreateContainer
     * resolved already ({@code host}).
     *
     * @see #generate(String, ContainerConfig, PodContext, ImageConfig, Path)
     */
    public Spec generate(
            String containerId,
            ContainerConfig config,
            PodContext pod,
            ImageConfig image,
            Path rootfs,
            HostInputs host) {
        Objects.requireNonNull(containerId, "containerId");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(pod, "pod");
        Objects.requireNonNull(image, "image");
        if (!rootfs.isAbsolute()) {
            throw new IllegalArgumentException("rootfs " + rootfs + " is not absolute");
        }
        String action = "create container \"%s\"".formatted(config.getMetadata().getName());
        LinuxContainerSecurityContext sc = config.getLinux().getSecurityContext();
        if (sc.getPrivileged() && !pod.config().getLinux().getSecurityContext().getPrivileged()) {
            throw new CriException.InvalidArgument(
                    action + ": no privileged container allowed in sandbox " + "\"" + pod.sandboxId() + "\"");
        }
        return Specs.apply(
                Specs.defaults(),
                s -> s.withRoot(new Root(rootfs.toString(), sc.getReadonlyRootfs())),
                Specs.withProcessArgs(ContainerProcess.args(config, image, action)),
                Specs.withEnv(ContainerProcess.env(config, pod, image)),
                Specs.withCwd(ContainerProcess.cwd(config, image)),
                Specs.withTerminal(config.getTty()),
                Specs.withUser(ContainerUser.resolve(sc, image, rootfs, action)),
                s -> ContainerMounts.apply(s, config, pod, host.imageVolumes(), action),
                s -> maskedPaths(s, sc),
                s -> ContainerDevices.apply(s, config, action),
                s -> capabilities(s, sc),
                s -> sc.getPrivileged() ? privileged(s, action) : s,
                s -> SeccompProfiles.of(
                                sc,
                                s.process().capabilities() == null
                                        ? List.of()
                                        : s.process().capabilities().bounding(),
                                action)
                        .map(f -> s.withLinux(s.linux().withSeccomp(f)))
                        .orElse(s),
                s -> SecurityModules.apply(s, sc, options.apparmorEnabled(), options.selinuxEnabled(), action),
                s -> s.withProcess(s.process().withNoNewPrivileges(sc.getNoNewPrivs())),
                s -> resources(s, config),
                Specs.withCgroupsPath(cgroupsPath(pod.cgroupParent(), containerId)),
                s -> ContainerNamespaces.apply(s, sc, pod, host.targetPid(), options.cgroupNamespace(), action),
                Specs.withAnnotations(annotations(config, pod)));
    }

    /**
     * The process of {@code runc exec --process}: the container's user, env, cwd, capabilities,
     * rlimits and {@code noNewPrivileges}, running {@code cmd}; a terminal gets {@code TERM=xterm}
     * (containerd's {@code execInternal}).
     *
     * @throws CriException.InvalidArgument when {@code cmd} is empty
     */
    public Process execProcess(Spec containerSpec, List<String> cmd, boolean tty) {
        return ContainerProcess.exec(containerSpec, cmd, tty);
    }

    /**
     * The CRI's resources merged onto {@code current} ({@code linux.resources} of the container's
     * spec, or null), as containerd's {@code WithResources}: for CreateContainer and
     * UpdateContainerResources alike. Zero and empty CRI fields keep what {@code current} has; device
     * rules are kept; a memory limit without a swap limit sets swap to the same value (no swap) when
     * {@code swapLimitAvailable}; hugepage limits replace those of the same page size; unified keys
     * are merged. oom_score_adj is not a cgroup setting: see {@link #oomScoreAdj}.
     */
    public static Resources resources(Resources current, LinuxContainerResources r, boolean swapLimitAvailable) {
        return CriResources.merge(current, r, swapLimitAvailable);
    }

    /** {@link #resources} with this host's swap accounting, for UpdateContainerResources. */
    public Resources updatedResources(Resources current, LinuxContainerResources r) {
        return resources(current, r, options.swapLimitAvailable());
    }

    /**
     * The CRI resources in force after {@code update} is applied to {@code current} (the create's,
     * or those of the last update), as {@link #resources} merges them: a field the update leaves at
     * zero or empty keeps its value, a hugepage limit replaces the one of the same page size, unified
     * keys are merged. ContainerStatus reports the result.
     */
    public static LinuxContainerResources mergedCri(LinuxContainerResources current, LinuxContainerResources update) {
        return CriResources.mergeCri(current, update);
    }

    /**
     * The CRI's oom_score_adj within the kernel's [-1000, 1000], never below {@code floor}
     * (containerd's {@code restrictOOMScoreAdj}).
     */
    public static int oomScoreAdj(LinuxContainerResources r, int floor) {
        long adj = Math.clamp(r.getOomScoreAdj(), -1000, 1000);
        return (int) Math.max(adj, floor);
    }

    /** The CRI's lists replace the defaults when given (kubelet sends its defaults for procMount Default). */
    private static Spec maskedPaths(Spec s, LinuxContainerSecurityContext sc) {
        Linux l = s.linux();
        List<String> masked = sc.getMaskedPathsList().isEmpty() ? l.maskedPaths() : sc.getMaskedPathsList();
        List<String> readonly = sc.getReadonlyPathsList().isEmpty() ? l.readonlyPaths() : sc.getReadonlyPathsList();
        return s.withLinux(l.withMaskedPaths(masked, readonly));
    }

    private Spec capabilities(Spec s, LinuxContainerSecurityContext sc) {
        if (!sc.hasCapabilities()) {
            return s;
        }
        return s.withProcess(s.process()
                .withCapabilities(CapabilitySets.apply(
                        s.process().capabilities(), sc.getCapabilities(), options.allCapabilities())));
    }

    /**
     * containerd's {@code WithPrivileged} plus {@code WithHostDevices} and
     * {@code WithAllDevicesAllowed}: every capability we hold, nothing masked, /sys and the cgroup
     * mount writable, every host device present and allowed.
     */
    private Spec privileged(Spec s, String action) {
        List<Mount> mounts = s.mounts().stream()
                .map(m -> m.type() != null
                                && (m.type().equals("sysfs") || m.type().equals("cgroup"))
                        ? m.withOptions(m.options().stream()
                                .map(o -> o.equals("ro") ? "rw" : o)
                                .toList())
                        : m)
                .toList();
        List<Linux.Device> devices = ContainerDevices.withHostDevices(s.linux().devices(), action);
        Linux linux = s.linux()
                .withMaskedPaths(List.of(), List.of())
                .withDevices(devices)
                .withResources(s.linux()
                        .resources()
                        .withDevices(List.of(new Resources.DeviceRule(true, null, null, null, "rwm"))));
        Process p = s.process()
                .withCapabilities(CapabilitySets.only(s.process().capabilities(), options.allCapabilities()));
        return s.withMounts(mounts).withLinux(linux).withProcess(p);
    }

    /** Limits and oom_score_adj; containerd leaves oom_score_adj unset (inherited) without CRI resources. */
    private Spec resources(Spec s, ContainerConfig config) {
        if (!config.getLinux().hasResources()) {
            return s;
        }
        LinuxContainerResources r = config.getLinux().getResources();
        Resources merged = CriResources.merge(s.linux().resources(), r, options.swapLimitAvailable());
        return s.withLinux(s.linux().withResources(merged))
                .withProcess(s.process().withOomScoreAdj(oomScoreAdj(r, options.oomScoreAdjFloor())));
    }

    /**
     * {@code <parent>/<id>} for cgroupfs, {@code <slice>:stevedore:<id>} for a systemd slice parent:
     * containerd's {@code getCgroupsPath} ({@link io.stevedore.server.host.CgroupPaths#container}).
     */
    static String cgroupsPath(String parent, String containerId) {
        try {
            return io.stevedore.server.host.CgroupPaths.container(parent, containerId);
        } catch (IllegalArgumentException e) {
            throw new CriException.InvalidArgument("cgroup_parent: " + e.getMessage());
        }
    }

    /** The CRI's annotations, then containerd's {@code DefaultCRIAnnotations} for a container. */
    private static Map<String, String> annotations(ContainerConfig config, PodContext pod) {
        Map<String, String> a = new TreeMap<>(config.getAnnotationsMap());
        var meta = pod.config().getMetadata();
        a.put(SANDBOX_ID, pod.sandboxId());
        a.put(SANDBOX_NAMESPACE, meta.getNamespace());
        a.put(SANDBOX_UID, meta.getUid());
        a.put(SANDBOX_NAME, meta.getName());
        a.put(CONTAINER_NAME, config.getMetadata().getName());
        String userSpecified = config.getImage().getUserSpecifiedImage();
        a.put(IMAGE_NAME, userSpecified.isEmpty() ? config.getImage().getImage() : userSpecified);
        a.put(CONTAINER_TYPE, "container");
        return a;
    }
}

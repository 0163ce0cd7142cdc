package io.stevedore.server.container.spec;

import io.stevedore.cri.v1.ContainerConfig;
import io.stevedore.cri.v1.IDMapping;
import io.stevedore.cri.v1.MountPropagation;
import io.stevedore.oci.spec.Linux;
import io.stevedore.oci.spec.Mount;
import io.stevedore.oci.spec.Spec;
import io.stevedore.server.error.CriException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The container's {@code mounts}, as containerd's {@code WithMounts} builds them: the CRI mounts,
 * plus the pod's {@code /etc/hostname}, {@code /etc/hosts}, {@code /etc/resolv.conf} and
 * {@code /dev/shm} where the CRI mounts do not already target those paths
 * ({@code linuxContainerMounts}); these are sorted by path depth so that a parent is mounted before
 * its children, and follow the default mounts they did not replace.
 *
 * <p>Every one of them is a bind: {@code rbind}, a propagation ({@code rprivate}, {@code rslave},
 * {@code rshared}), then {@code ro} or {@code rw}. A slave or shared mount needs the rootfs to
 * propagate too, so {@code linux.rootfsPropagation} becomes {@code rslave} or {@code rshared}.
 */
final class ContainerMounts {
    private static final String ETC_HOSTNAME = "/etc/hostname";
    private static final String ETC_HOSTS = "/etc/hosts";
    private static final String RESOLV_CONF = "/etc/resolv.conf";
    private static final String DEV_SHM = "/dev/shm";
    private static final Path HOST_DEV_SHM = Path.of("/dev/shm");

    /** A bind to add: the CRI's or the pod's. */
    private record Bind(
            String containerPath,
            String hostPath,
            boolean readonly,
            boolean recursiveReadonly,
            MountPropagation propagation,
            List<IDMapping> uids,
            List<IDMapping> gids,
            List<String> extraOptions) {}

    private ContainerMounts() {}

    /**
     * {@code spec} with the CRI and pod mounts applied.
     *
     * @param imageVolumes the host directory of each image volume, by its index in the CRI mounts
     *     (see {@link HostInputs#imageVolumes}); an image volume is always read-only
     * @param action prefix of error messages, e.g. {@code create container "web"}
     * @throws CriException.InvalidArgument for a mount without a host path, whose host path does
     *     not exist, or with a relative container path; an image volume not in {@code imageVolumes}
     */
    static Spec apply(
            Spec spec, ContainerConfig config, PodContext pod, Map<Integer, Path> imageVolumes, String action) {
        List<Bind> binds = new ArrayList<>();
        Set<String> criTargets = new HashSet<>();
        for (int i = 0; i < config.getMountsCount(); i++) {
            io.stevedore.cri.v1.Mount m = config.getMounts(i);
            String hostPath = m.getHostPath();
            boolean image = HostInputs.isImageVolume(m);
            if (image) {
                Path source = imageVolumes.get(i);
                if (source == null) {
                    throw new CriException.InvalidArgument("%s: image volume for \"%s\" is not mounted"
                            .formatted(action, CriException.shown(m.getContainerPath())));
                }
                hostPath = source.toString();
            } else if (hostPath.isEmpty()) {
                throw new CriException.InvalidArgument(
                        "%s: mount for \"%s\" has no host path".formatted(action, m.getContainerPath()));
            }
            binds.add(new Bind(
                    m.getContainerPath(),
                    hostPath,
                    m.getReadonly() || image,
                    m.getRecursiveReadOnly(),
                    m.getPropagation(),
                    m.getUidMappingsList(),
                    m.getGidMappingsList(),
                    List.of()));
            criTargets.add(clean(m.getContainerPath()));
        }
        binds.addAll(podBinds(config, pod, criTargets));
        for (Bind b : binds) {
            if (!b.containerPath().startsWith("/")) {
                throw new CriException.InvalidArgument(
                        "%s: mount container path \"%s\" is not absolute".formatted(action, b.containerPath()));
            }
        }
        // Stable: equal depths keep the CRI's order (containerd's orderedMounts).
        binds.sort(Comparator.comparingInt(b -> depth(b.containerPath())));

        Set<String> targets = new HashSet<>();
        binds.forEach(b -> targets.add(clean(b.containerPath())));
        List<Mount> mounts = new ArrayList<>();
        for (Mount m : spec.mounts()) {
            String dst = clean(m.destination());
            // A bind on /dev hides the default /dev/pts, /dev/shm and /dev/mqueue too.
            if (!targets.contains(dst) && !(targets.contains("/dev") && dst.startsWith("/dev/"))) {
                mounts.add(m);
            }
        }
        Linux linux = spec.linux() == null ? Linux.EMPTY : spec.linux();
        String rootfsPropagation = linux.rootfsPropagation();
        for (Bind b : binds) {
            List<String> options = new ArrayList<>();
            options.add("rbind");
            switch (b.propagation()) {
                case PROPAGATION_BIDIRECTIONAL -> {
                    options.add("rshared");
                    rootfsPropagation = "rshared";
                }
                case PROPAGATION_HOST_TO_CONTAINER -> {
                    options.add("rslave");
                    if (!"rshared".equals(rootfsPropagation)) {
                        rootfsPropagation = "rslave";
                    }
                }
                // runc's root propagation is already rprivate; unknown values are treated as private.
                default -> options.add("rprivate");
            }
            options.addAll(readonlyOptions(b, action));
            options.addAll(b.extraOptions());
            mounts.add(new Mount(
                    b.containerPath(), "bind", hostPath(b, action), options, mappings(b.uids()), mappings(b.gids())));
        }
        return spec.withMounts(mounts).withLinux(linux.withRootfsPropagation(rootfsPropagation));
    }

    /**
     * The pod's files, as containerd's {@code linuxContainerMounts}: skipped when a CRI mount targets
     * the same path or the file is missing; read-only with a read-only rootfs. {@code /dev/shm} is the
     * pod's tmpfs, or the host's for a host-IPC pod, always writable.
     */
    private static List<Bind> podBinds(ContainerConfig config, PodContext pod, Set<String> criTargets) {
        boolean ro = config.getLinux().getSecurityContext().getReadonlyRootfs();
        List<Bind> out = new ArrayList<>();
        addIfPresent(out, criTargets, ETC_HOSTNAME, pod.hostnameFile(), ro, List.of());
        addIfPresent(out, criTargets, ETC_HOSTS, pod.hostsFile(), ro, List.of());
        addIfPresent(out, criTargets, RESOLV_CONF, pod.resolvConf(), ro, List.of());
        addIfPresent(
                out, criTargets, DEV_SHM, pod.shm().orElse(HOST_DEV_SHM), false, List.of("nosuid", "nodev", "noexec"));
        return out;
    }

    private static void addIfPresent(
            List<Bind> out,
            Set<String> criTargets,
            String containerPath,
            Path hostPath,
            boolean readonly,
            List<String> extraOptions) {
        if (!criTargets.contains(containerPath) && Files.exists(hostPath)) {
            out.add(new Bind(
                    containerPath,
                    hostPath.toString(),
                    readonly,
                    false,
                    MountPropagation.PROPAGATION_PRIVATE,
                    List.of(),
                    List.of(),
                    extraOptions));
        }
    }

    /** {@code ro}, {@code rro} (recursive, only with private propagation, as containerd) or {@code rw}. */
    private static List<String> readonlyOptions(Bind b, String action) {
        if (!b.recursiveReadonly()) {
            return List.of(b.readonly() ? "ro" : "rw");
        }
        if (!b.readonly()) {
            throw new CriException.InvalidArgument(
                    "%s: recursive read-only mount conflicts with RW mount (hostPath=\"%s\")"
                            .formatted(action, b.hostPath()));
        }
        if (b.propagation() != MountPropagation.PROPAGATION_PRIVATE) {
            throw new CriException.InvalidArgument(
                    "%s: recursive read-only mount needs private propagation, got %s (hostPath=\"%s\")"
                            .formatted(action, b.propagation(), b.hostPath()));
        }
        return List.of("rro");
    }

    /** The host path with every symlink resolved, so runc binds what the kubelet meant. */
    private static String hostPath(Bind b, String action) {
        try {
            return Path.of(b.hostPath()).toRealPath().toString();
        } catch (NoSuchFileException e) {
            throw new CriException.InvalidArgument(
                    "%s: mount host path \"%s\" does not exist".formatted(action, b.hostPath()));
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "%s: resolve mount host path \"%s\": %s".formatted(action, b.hostPath(), e.getMessage()), e);
        }
    }

    private static List<Linux.IdMapping> mappings(List<IDMapping> m) {
        return m.stream()
                .map(x -> new Linux.IdMapping(
                        Integer.toUnsignedLong(x.getContainerId()),
                        Integer.toUnsignedLong(x.getHostId()),
                        Integer.toUnsignedLong(x.getLength())))
                .toList();
    }

    /** Go's {@code filepath.Clean} for the absolute paths compared here. */
    static String clean(String path) {
        return path.isEmpty() ? "" : Path.of(path).normalize().toString();
    }

    private static int depth(String containerPath) {
        String c = clean(containerPath);
        return (int) c.chars().filter(ch -> ch == '/').count();
    }
}

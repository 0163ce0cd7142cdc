package io.stevedore.server.container.spec;

import io.stevedore.cri.v1.LinuxContainerSecurityContext;
import io.stevedore.cri.v1.NamespaceOption;
import io.stevedore.oci.spec.Linux;
import io.stevedore.oci.spec.Linux.Namespace;
import io.stevedore.oci.spec.Linux.NamespaceType;
import io.stevedore.oci.spec.Spec;
import io.stevedore.server.error.CriException;
import java.nio.file.Path;
import java.util.OptionalInt;

/** The namespaces a container joins or gets, as containerd's {@code WithPodNamespaces}. */
final class ContainerNamespaces {
    private ContainerNamespaces() {}

    /**
     * Join the pod's network, IPC and UTS namespaces (the host's when the pod has none), a new mount
     * namespace, PID as the CRI asks (TARGET: the namespace of {@code targetPid}, the target
     * container's init, as containerd's {@code WithPodNamespaces} with a target pid); a new cgroup
     * namespace when {@code cgroupNamespace} (see {@link ContainerSpecGenerator.Options#cgroupNamespace})
     * and unprivileged.
     */
    static Spec apply(
            Spec s,
            LinuxContainerSecurityContext sc,
            PodContext pod,
            OptionalInt targetPid,
            boolean cgroupNamespace,
            String action) {
        Linux l = s.linux();
        l = join(l, NamespaceType.NETWORK, pod.netns().orElse(null));
        l = join(l, NamespaceType.IPC, pod.ipcns().orElse(null));
        l = join(l, NamespaceType.UTS, pod.utsns().orElse(null));
        NamespaceOption ns = sc.getNamespaceOptions();
        l = switch (ns.getPid()) {
            case NODE -> l.withoutNamespace(NamespaceType.PID);
            case POD ->
                l.withNamespace(new Namespace(
                        NamespaceType.PID,
                        pod.sharedPidNsPid()
                                .map(pid -> "/proc/" + pid + "/ns/pid")
                                .orElse(null)));
            case CONTAINER -> l.withNamespace(new Namespace(NamespaceType.PID));
            case TARGET -> {
                if (targetPid.isEmpty()) {
                    throw new CriException.InvalidArgument(
                            "%s: PID namespace mode TARGET without a resolved target container".formatted(action));
                }
                yield l.withNamespace(new Namespace(NamespaceType.PID, "/proc/" + targetPid.getAsInt() + "/ns/pid"));
            }
            case UNRECOGNIZED ->
                throw new CriException.InvalidArgument(
                        "%s: PID namespace mode %s is not supported".formatted(action, ns.getPid()));
        };
        if (ns.hasUsernsOptions()) {
            switch (ns.getUsernsOptions().getMode()) {
                case NODE -> {}
                case POD -> throw new CriException.Unimplemented(action + ": user namespaces are not supported");
                default ->
                    throw new CriException.InvalidArgument("%s: unsupported user namespace mode %s"
                            .formatted(action, ns.getUsernsOptions().getMode()));
            }
        }
        if (cgroupNamespace && !sc.getPrivileged()) {
            l = l.withNamespace(new Namespace(NamespaceType.CGROUP));
        }
        return s.withLinux(l);
    }

    /** Join {@code path}, or share the host's namespace (no entry) when null. */
    private static Linux join(Linux l, NamespaceType type, Path path) {
        return path == null ? l.withoutNamespace(type) : l.withNamespace(new Namespace(type, path.toString()));
    }
}

package io.stevedore.server.sandbox;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import io.stevedore.cri.v1.NamespaceMode;
import io.stevedore.cri.v1.PodSandboxConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a pod is, written once when RunPodSandbox succeeds and never changed: the config the
 * kubelet gave, and what the run acquired for it (containerd's sandbox {@code Metadata}). What
 * changes over the pod's life is its {@link SandboxStatus}.
 *
 * @param id the sandbox id
 * @param name the reserved unique name ({@code name_namespace_uid_attempt})
 * @param config the CRI config as received; stored as its protobuf bytes (base64)
 * @param runtimeHandler the handler its containers run with (default applied)
 * @param createdAt nanoseconds since the epoch
 * @param netns the pinned network namespace; empty for host network
 * @param ipcns the pinned IPC namespace; empty for host IPC
 * @param utsns the pinned UTS namespace; empty for host network
 * @param shm the pod's {@code /dev/shm} mount; empty for host IPC
 * @param ip the pod's primary IP; empty for host network
 * @param additionalIps the other IPs CNI assigned
 * @param cgroupParent the pod's cgroup (cgroupfs path)
 * @param ownCgroupParent whether stevedore made that cgroup (and removes it with the pod)
 */
public record SandboxMetadata(
        String id,
        String name,

        @JsonSerialize(using = ProtoBytes.Writer.class) @JsonDeserialize(using = ProtoBytes.PodConfigReader.class)
        PodSandboxConfig config,

        String runtimeHandler,
        long createdAt,
        String netns,
        String ipcns,
        String utsns,
        String shm,
        String ip,
        List<String> additionalIps,
        String cgroupParent,
        boolean ownCgroupParent) {
    public SandboxMetadata {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(config, "config");
        name = Objects.requireNonNullElse(name, "");
        runtimeHandler = Objects.requireNonNullElse(runtimeHandler, "");
        netns = Objects.requireNonNullElse(netns, "");
        ipcns = Objects.requireNonNullElse(ipcns, "");
        utsns = Objects.requireNonNullElse(utsns, "");
        shm = Objects.requireNonNullElse(shm, "");
        ip = Objects.requireNonNullElse(ip, "");
        additionalIps = additionalIps == null ? List.of() : List.copyOf(additionalIps);
        cgroupParent = Objects.requireNonNullElse(cgroupParent, "");
    }

    Optional<Path> netnsPath() {
        return path(netns);
    }

    Optional<Path> ipcnsPath() {
        return path(ipcns);
    }

    Optional<Path> utsnsPath() {
        return path(utsns);
    }

    Optional<Path> shmPath() {
        return path(shm);
    }

    /** Whether the run pinned any namespace (a pod on the host's network and IPC pins none). */
    boolean hasPins() {
        return !netns.isEmpty() || !ipcns.isEmpty() || !utsns.isEmpty();
    }

    /** Whether the pod's containers share one PID namespace, held by a pause. */
    boolean sharesPid() {
        return config.getLinux().getSecurityContext().getNamespaceOptions().getPid() == NamespaceMode.POD;
    }

    private static Optional<Path> path(String s) {
        return s.isEmpty() ? Optional.empty() : Optional.of(Path.of(s));
    }
}

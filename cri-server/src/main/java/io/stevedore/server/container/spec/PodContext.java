package io.stevedore.server.container.spec;

import io.stevedore.cri.v1.PodSandboxConfig;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * What a container's spec needs to know about its pod: the namespaces to join, the files the pod
 * shares with its containers and the pod's cgroup.
 *
 * @param sandboxId the pod's id
 * @param config the pod's CRI config as RunPodSandbox received it
 * @param netns the pinned network namespace; empty for a host-network pod
 * @param ipcns the pinned IPC namespace; empty for host IPC
 * @param utsns the pinned UTS namespace; empty for a host-network pod (which keeps the host's UTS)
 * @param sharedPidNsPid pid of the pod's infra process when the pod shares one PID namespace
 *     (containers with PID mode POD join {@code /proc/<pid>/ns/pid}); empty otherwise
 * @param hostsFile the pod's {@code /etc/hosts}
 * @param resolvConf the pod's {@code /etc/resolv.conf}
 * @param hostnameFile the pod's {@code /etc/hostname}
 * @param shm the pod's {@code /dev/shm} (a tmpfs mounted by the daemon); empty for host IPC, where
 *     containers bind the host's {@code /dev/shm}
 * @param cgroupParent the pod's cgroupfs path, e.g. {@code /kubepods/besteffort/pod123}; the
 *     container's {@code cgroupsPath} is {@code <cgroupParent>/<containerId>}
 */
public record PodContext(
        String sandboxId,
        PodSandboxConfig config,
        Optional<Path> netns,
        Optional<Path> ipcns,
        Optional<Path> utsns,
        Optional<Integer> sharedPidNsPid,
        Path hostsFile,
        Path resolvConf,
        Path hostnameFile,
        Optional<Path> shm,
        String cgroupParent) {
    public PodContext {
        Objects.requireNonNull(sandboxId, "sandboxId");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(netns, "netns");
        Objects.requireNonNull(ipcns, "ipcns");
        Objects.requireNonNull(utsns, "utsns");
        Objects.requireNonNull(sharedPidNsPid, "sharedPidNsPid");
        Objects.requireNonNull(hostsFile, "hostsFile");
        Objects.requireNonNull(resolvConf, "resolvConf");
        Objects.requireNonNull(hostnameFile, "hostnameFile");
        Objects.requireNonNull(shm, "shm");
        Objects.requireNonNull(cgroupParent, "cgroupParent");
    }
}

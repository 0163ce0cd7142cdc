package io.stevedore.server.sandbox;

import java.util.List;
import java.util.Objects;

/**
 * A pod sandbox as stored.
 *
 * @param id the sandbox id
 * @param name the reserved unique name ({@code name_namespace_uid_attempt})
 * @param config the CRI {@code PodSandboxConfig} as received, protobuf bytes
 * @param runtimeHandler the handler its containers run with (default applied)
 * @param createdAt nanoseconds since the epoch
 * @param ready READY until stopped
 * @param netns the pinned network namespace; empty for host network
 * @param ipcns the pinned IPC namespace; empty for host IPC
 * @param utsns the pinned UTS namespace; empty for host network
 * @param shm the pod's {@code /dev/shm} mount; empty for host IPC
 * @param pausePid the infra process holding the shared PID namespace; 0 when there is none
 * @param pauseStartTime its start time (see {@code Procs}), which tells it from a reused pid
 * @param ip the pod's primary IP; empty for host network
 * @param additionalIps the other IPs CNI assigned
 * @param cgroupParent the pod's cgroup (cgroupfs path)
 * @param ownCgroupParent whether stevedore made that cgroup (and removes it with the pod)
 */
public record SandboxRecord(
        String id,
        String name,
        byte[] config,
        String runtimeHandler,
        long createdAt,
        boolean ready,
        String netns,
        String ipcns,
        String utsns,
        String shm,
        int pausePid,
        long pauseStartTime,
        String ip,
        List<String> additionalIps,
        String cgroupParent,
        boolean ownCgroupParent) {
    public SandboxRecord {
        Objects.requireNonNull(id, "id");
        additionalIps = additionalIps == null ? List.of() : List.copyOf(additionalIps);
    }

    SandboxRecord notReady() {
        return new SandboxRecord(
                id,
                name,
                config,
                runtimeHandler,
                createdAt,
                false,
                netns,
                ipcns,
                utsns,
                shm,
                0,
                0,
                ip,
                additionalIps,
                cgroupParent,
                ownCgroupParent);
    }

    SandboxRecord withPause(int pid, long startTime) {
        return new SandboxRecord(
                id,
                name,
                config,
                runtimeHandler,
                createdAt,
                ready,
                netns,
                ipcns,
                utsns,
                shm,
                pid,
                startTime,
                ip,
                additionalIps,
                cgroupParent,
                ownCgroupParent);
    }
}

package io.stevedore.server.container;

import io.stevedore.cri.v1.ContainerState;
import io.stevedore.server.host.Procs;
import java.util.List;
import java.util.Objects;

/**
 * A container as stored: what it was created from (immutable) and its status (replaced as it
 * changes), in one JSON record.
 *
 * @param id the container id
 * @param sandboxId the pod it belongs to
 * @param name the reserved unique name ({@code name_sandbox_namespace_uid_attempt})
 * @param config the CRI {@code ContainerConfig} as received, protobuf bytes
 * @param imageId the image id it was created from
 * @param imageRef the image reference reported in status: a repo digest when known, else the id
 * @param imageName the image as requested
 * @param layers the chain ids of the snapshots its rootfs is made of, bottom first (kept from
 *     image garbage collection while the container exists, even if the image is removed)
 * @param logPath the CRI log file; empty when the pod has no log directory
 * @param cgroupsPath the OCI cgroupsPath
 * @param createdAt nanoseconds since the epoch
 * @param status what happened to it since
 */
public record ContainerRecord(
        String id,
        String sandboxId,
        String name,
        byte[] config,
        String imageId,
        String imageRef,
        String imageName,
        List<String> layers,
        String logPath,
        String cgroupsPath,
        long createdAt,
        Status status) {
    public ContainerRecord {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(status, "status");
        layers = layers == null ? List.of() : List.copyOf(layers);
    }

    public ContainerRecord withStatus(Status s) {
        return new ContainerRecord(
                id, sandboxId, name, config, imageId, imageRef, imageName, layers, logPath, cgroupsPath, createdAt, s);
    }

    /**
     * @param state CREATED, RUNNING or EXITED (UNKNOWN when the shim vanished without an exit file)
     * @param pid the container's init pid while running
     * @param pidStartTime its start time (see {@link Procs}); 0 when unknown
     * @param shimPid the shim's pid, with its start time, while running
     * @param startedAt nanoseconds since the epoch; 0 until started
     * @param finishedAt nanoseconds since the epoch; 0 until exited
     * @param exitCode exit code, 128+signal when signalled
     * @param reason {@code Completed}, {@code Error}, {@code OOMKilled}, {@code StartError}…
     * @param message human-readable detail (the runtime's error for a failed start)
     */
    public record Status(
            ContainerState state,
            int pid,
            long pidStartTime,
            int shimPid,
            long shimStartTime,
            long startedAt,
            long finishedAt,
            int exitCode,
            String reason,
            String message) {
        public static Status created() {
            return new Status(ContainerState.CONTAINER_CREATED, 0, 0, 0, 0, 0, 0, 0, "", "");
        }

        public Status running(int pid, long pidStartTime, int shimPid, long shimStartTime, long startedAt) {
            return new Status(
                    ContainerState.CONTAINER_RUNNING,
                    pid,
                    pidStartTime,
                    shimPid,
                    shimStartTime,
                    startedAt,
                    0,
                    0,
                    "",
                    "");
        }

        public Status exited(long finishedAt, int exitCode, String reason, String message) {
            return new Status(
                    ContainerState.CONTAINER_EXITED,
                    pid,
                    pidStartTime,
                    shimPid,
                    shimStartTime,
                    startedAt,
                    finishedAt,
                    exitCode,
                    reason,
                    message);
        }
    }
}

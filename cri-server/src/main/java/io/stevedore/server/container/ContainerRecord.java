package io.stevedore.server.container;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import io.stevedore.cri.v1.ContainerConfig;
import io.stevedore.cri.v1.ContainerState;
import io.stevedore.cri.v1.LinuxContainerResources;
import io.stevedore.server.host.Procs;
import java.util.List;
import java.util.Objects;

/**
 * A container as stored: its {@link ContainerMetadata} (immutable) and its {@link Status} (replaced
 * whole at each transition), in one JSON record of format {@link #FORMAT}.
 */
public record ContainerRecord(ContainerMetadata meta, ContainerRecord.Status status) {
    /**
     * The stored format: 3 nests {@code meta} and {@code status}; 1 (bare) and 2 were one flat
     * object with {@code status} beside the metadata fields.
     */
    static final int FORMAT = 3;

    public ContainerRecord {
        Objects.requireNonNull(meta, "meta");
        Objects.requireNonNull(status, "status");
    }

    /** A record from its parts, as CreateContainer makes it. */
    public ContainerRecord(
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
        this(
                new ContainerMetadata(
                        id,
                        sandboxId,
                        name,
                        config,
                        imageId,
                        imageRef,
                        imageName,
                        layers,
                        logPath,
                        cgroupsPath,
                        createdAt,
                        List.of()),
                status);
    }

    /** Formats 1 and 2 (flat) to 3 (nested). */
    static ObjectNode migrate(int from, ObjectNode flat) {
        if (from >= FORMAT) return flat;
        ObjectNode nested = flat.objectNode();
        var status = flat.remove("status");
        nested.set("meta", flat);
        nested.set("status", status);
        return nested;
    }

    /** The CRI config it was created with, and the resources of its last update. */
    public ContainerConfig criConfig() {
        try {
            var cfg = ContainerConfig.parseFrom(config());
            byte[] updated = status.resources();
            if (updated.length == 0) return cfg;
            var b = cfg.toBuilder();
            b.getLinuxBuilder().setResources(LinuxContainerResources.parseFrom(updated));
            return b.build();
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("container \"" + id() + "\": stored config unreadable", e);
        }
    }

    /** How messages name a state: created, running, exited. */
    static String stateName(ContainerState s) {
        return switch (s) {
            case CONTAINER_CREATED -> "created";
            case CONTAINER_RUNNING -> "running";
            case CONTAINER_EXITED -> "exited";
            default -> "unknown";
        };
    }

    public ContainerRecord withStatus(Status s) {
        return new ContainerRecord(meta, s);
    }

    public String id() {
        return meta.id();
    }

    public String sandboxId() {
        return meta.sandboxId();
    }

    public String name() {
        return meta.name();
    }

    public byte[] config() {
        return meta.config();
    }

    public String imageId() {
        return meta.imageId();
    }

    public String imageRef() {
        return meta.imageRef();
    }

    public String imageName() {
        return meta.imageName();
    }

    public List<String> layers() {
        return meta.layers();
    }

    /** The snapshots this container keeps from garbage collection: its rootfs's and its image volumes'. */
    public List<String> snapshotsInUse() {
        if (meta.imageVolumeLayers().isEmpty()) return meta.layers();
        var all = new java.util.ArrayList<>(meta.layers());
        all.addAll(meta.imageVolumeLayers());
        return all;
    }

    public String logPath() {
        return meta.logPath();
    }

    public String cgroupsPath() {
        return meta.cgroupsPath();
    }

    public long createdAt() {
        return meta.createdAt();
    }

    /**
     * What happened to a container since it was created. The transitions, each a method returning
     * the next status (an illegal one is a bug and throws {@link IllegalStateException}):
     *
     * <pre>
     *   CreateContainer
     *         │
     *         ▼        started(…)              exited(…)
     *     CREATED ────────────────▶ RUNNING ────────────────▶ EXITED
     *         │                                                 ▲
     *         └──────────────── startFailed(…) ─────────────────┘
     *   RemoveContainer takes a CREATED or EXITED container (a RUNNING one is stopped first).
     * </pre>
     *
     * What is in progress (starting, stopping, removing) is not stored: see {@link ContainerCell}.
     *
     * @param state CREATED, RUNNING or EXITED
     * @param pid the container's init pid while running
     * @param pidStartTime its start time (see {@link Procs}); 0 when unknown
     * @param shimPid the shim's pid, with its start time, while running
     * @param startedAt nanoseconds since the epoch; 0 until started
     * @param finishedAt nanoseconds since the epoch; 0 until exited
     * @param exitCode exit code, 128+signal when signalled
     * @param reason {@code Completed}, {@code Error}, {@code OOMKilled}, {@code StartError}…
     * @param message human-readable detail (the runtime's error for a failed start)
     * @param resources the {@code LinuxContainerResources} of the last UpdateContainerResources,
     *     protobuf bytes; empty while the config's own apply
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
            String message,
            byte[] resources) {
        public Status {
            Objects.requireNonNull(state, "state");
            reason = reason == null ? "" : reason;
            message = message == null ? "" : message;
            resources = resources == null ? new byte[0] : resources;
        }

        public static Status created() {
            return new Status(ContainerState.CONTAINER_CREATED, 0, 0, 0, 0, 0, 0, 0, "", "", null);
        }

        /** CREATED → RUNNING. */
        public Status started(int pid, long pidStartTime, int shimPid, long shimStartTime, long startedAt) {
            require(ContainerState.CONTAINER_CREATED, "start");
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
                    "",
                    resources);
        }

        /** CREATED → EXITED: the start failed; {@code message} is the runtime's error. */
        public Status startFailed(long at, String message) {
            require(ContainerState.CONTAINER_CREATED, "fail the start of");
            return new Status(
                    ContainerState.CONTAINER_EXITED, 0, 0, 0, 0, at, at, 128, "StartError", message.strip(), resources);
        }

        /** RUNNING → EXITED. */
        public Status exited(long finishedAt, int exitCode, String reason, String message) {
            require(ContainerState.CONTAINER_RUNNING, "record the exit of");
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
                    message,
                    resources);
        }

        /** The same state with new resources (UpdateContainerResources). */
        public Status withResources(byte[] updated) {
            return new Status(
                    state,
                    pid,
                    pidStartTime,
                    shimPid,
                    shimStartTime,
                    startedAt,
                    finishedAt,
                    exitCode,
                    reason,
                    message,
                    updated);
        }

        public boolean canStart() {
            return state == ContainerState.CONTAINER_CREATED;
        }

        public boolean isRunning() {
            return state == ContainerState.CONTAINER_RUNNING;
        }

        /** Whether a shim ran for it (so runtime state, a mount and sockets may be left to release). */
        public boolean ran() {
            return shimPid > 0;
        }

        private void require(ContainerState from, String action) {
            if (state != from) {
                throw new IllegalStateException("cannot " + action + " a container that is " + state);
            }
        }
    }
}

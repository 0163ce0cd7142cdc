package io.stevedore.server.sandbox;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stevedore.server.state.RecordStore;
import java.io.IOException;
import java.util.List;
import java.util.Objects;

/**
 * A pod as stored, one file per pod ({@code sandboxes.meta/<id>.json}, see {@link RecordStore}):
 * its {@link SandboxMetadata} and the stored part of its {@link SandboxStatus} (the operation
 * flags are never stored).
 *
 * <p>Format versions: 1 and 2 stored one flat object (the metadata's fields beside {@code ready},
 * {@code pausePid} and {@code pauseStartTime}; 2 only wrapped it with its version); 3, {@link
 * #VERSION}, stores {@code {"metadata": {...}, "status": {"state", "pausePid", "pauseStartTime"}}}.
 * {@link #migrate} brings 1 and 2 up to 3.
 */
public record SandboxRecord(SandboxMetadata metadata, SandboxStatus status) {
    /** The format version this daemon writes. */
    static final int VERSION = 4;

    public SandboxRecord {
        Objects.requireNonNull(metadata, "metadata");
        Objects.requireNonNull(status, "status");
    }

    // The accessors the stats service reads a pod by.

    public String id() {
        return metadata.id();
    }

    /** The CRI {@code PodSandboxConfig} as protobuf bytes. */
    public byte[] config() {
        return metadata.config().toByteArray();
    }

    public String netns() {
        return metadata.netns();
    }

    public String cgroupParent() {
        return metadata.cgroupParent();
    }

    /** What the CRI calls SANDBOX_READY. */
    public boolean ready() {
        return status.isReady();
    }

    /**
     * A stored record of version {@code from} as version {@link #VERSION}. A flat record that was
     * not ready becomes NOTREADY, not STOPPED: it may have been marked so by recovery with its
     * network and namespaces still held, so the next stop or remove gives them back again (each
     * step is idempotent), as the daemon that wrote it would have.
     */
    static ObjectNode migrate(int from, ObjectNode record) throws IOException {
        if (from == 3) return record; // 4 only adds the optional status.resources
        if (from != 1 && from != 2) throw new IOException("no migration from sandbox record version " + from);
        return fromFlat(record);
    }

    /** Versions 1 and 2 (one flat object) as version 3. */
    private static ObjectNode fromFlat(ObjectNode flat) {
        var metadata = flat.deepCopy();
        for (String moved : List.of("ready", "pausePid", "pauseStartTime")) {
            metadata.remove(moved);
        }
        var status = JsonNodeFactory.instance.objectNode();
        boolean ready = flat.path("ready").asBoolean(false);
        status.put("state", (ready ? SandboxStatus.State.READY : SandboxStatus.State.NOTREADY).name());
        status.put("pausePid", flat.path("pausePid").asInt(0));
        status.put("pauseStartTime", flat.path("pauseStartTime").asLong(0));
        var record = JsonNodeFactory.instance.objectNode();
        record.set("metadata", metadata);
        record.set("status", status);
        return record;
    }
}

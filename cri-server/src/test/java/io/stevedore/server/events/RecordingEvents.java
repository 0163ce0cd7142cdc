package io.stevedore.server.events;

import io.stevedore.cri.v1.ContainerEventType;
import io.stevedore.cri.v1.ContainerStatus;
import io.stevedore.cri.v1.PodSandboxStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Records the transitions reported, as {@code <id>:<KIND>[:<state in the snapshot>]}, in the order
 * they were reported; the snapshot is taken at once, as the bus would later.
 */
public final class RecordingEvents implements LifecycleEvents {
    private final List<String> seen = new ArrayList<>(); // guarded by this

    @Override
    public synchronized void container(
            ContainerEventType type, String containerId, String sandboxId, Supplier<ContainerStatus> status) {
        seen.add(containerId + ":" + kind(type)
                + (status == null ? "" : ":" + status.get().getState().name()));
    }

    @Override
    public synchronized void pod(ContainerEventType type, String sandboxId, Supplier<PodSandboxStatus> status) {
        seen.add(sandboxId + ":" + kind(type) + ":" + status.get().getState().name());
    }

    /** What was reported of {@code id}, in order. */
    public synchronized List<String> of(String id) {
        return seen.stream().filter(s -> s.startsWith(id + ":")).toList();
    }

    public synchronized List<String> all() {
        return List.copyOf(seen);
    }

    private static String kind(ContainerEventType type) {
        return type.name().split("_")[1];
    }
}

package io.stevedore.server.container;

import io.stevedore.cri.v1.ContainerEventType;
import io.stevedore.cri.v1.ContainerState;
import io.stevedore.cri.v1.ContainerStatus;
import io.stevedore.server.events.LifecycleEvents;
import java.util.function.Function;

/**
 * Reports the containers' transitions as lifecycle events: CREATED when CreateContainer stores one,
 * STARTED when it runs, STOPPED when it exits or its start fails, DELETED when it is forgotten.
 * Each is reported where it is committed, so in order, recovery's included (an exit found at
 * start-up, an interrupted start found running).
 */
final class ContainerTransitions implements ContainerCell.Watch {
    private final LifecycleEvents events;
    private final Function<ContainerRecord, ContainerStatus> describe;

    /** @param describe a record as a CRI status (run later, off the lifecycle's path) */
    ContainerTransitions(LifecycleEvents events, Function<ContainerRecord, ContainerStatus> describe) {
        this.events = events;
        this.describe = describe;
    }

    void created(ContainerRecord r) {
        events.container(ContainerEventType.CONTAINER_CREATED_EVENT, r.id(), r.sandboxId(), () -> describe.apply(r));
    }

    @Override
    public void changed(ContainerRecord before, ContainerRecord after) {
        ContainerEventType type = after.status().state() == ContainerState.CONTAINER_RUNNING
                ? ContainerEventType.CONTAINER_STARTED_EVENT
                : ContainerEventType.CONTAINER_STOPPED_EVENT; // EXITED: there is no way back to CREATED
        events.container(type, after.id(), after.sandboxId(), () -> describe.apply(after));
    }

    void deleted(ContainerRecord r) {
        events.container(ContainerEventType.CONTAINER_DELETED_EVENT, r.id(), r.sandboxId(), null);
    }
}

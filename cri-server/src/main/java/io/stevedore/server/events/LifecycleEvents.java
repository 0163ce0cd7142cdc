package io.stevedore.server.events;

import io.stevedore.cri.v1.ContainerEventType;
import io.stevedore.cri.v1.ContainerStatus;
import io.stevedore.cri.v1.PodSandboxStatus;
import java.util.function.Supplier;

/**
 * Where the lifecycle reports its transitions, for GetContainerEvents (KEP-3386, the kubelet's
 * Evented PLEG). A container reports CREATED, STARTED (it runs), STOPPED (it exited, or its start
 * failed) and DELETED; a pod reports the same four with its own id as the container id, as
 * containerd does for sandboxes.
 *
 * <p>Both methods are called where the transition is committed, under the object's lock, so the
 * events of one container or pod are reported in the order they happened. They must therefore
 * never block and never throw: an implementation only takes note, and describes the event later
 * with the suppliers (which read immutable records, so they describe the object as it was at the
 * transition).
 */
public interface LifecycleEvents {
    /** Reports nothing: for tests, and a daemon nobody subscribes to. */
    LifecycleEvents NONE = new LifecycleEvents() {
        @Override
        public void container(
                ContainerEventType type, String containerId, String sandboxId, Supplier<ContainerStatus> status) {}

        @Override
        public void pod(ContainerEventType type, String sandboxId, Supplier<PodSandboxStatus> status) {}
    };

    /**
     * A container's transition.
     *
     * @param status its status as of the transition; null when it is gone (DELETED)
     */
    void container(ContainerEventType type, String containerId, String sandboxId, Supplier<ContainerStatus> status);

    /**
     * A pod's transition.
     *
     * @param status its status as of the transition (the last one it had, for DELETED)
     */
    void pod(ContainerEventType type, String sandboxId, Supplier<PodSandboxStatus> status);
}

package io.stevedore.server.container;

import io.stevedore.server.container.spec.PodContext;

/**
 * What the container service asks of the sandbox service: a narrow seam, so that neither package
 * reaches into the other (the root wires them).
 */
public interface Pods {
    /**
     * The pod a container is being created in or started in. With {@code sharedPid}, the pod's
     * shared PID namespace is made ready too (when the pod has one), for a container that joins it.
     *
     * @throws io.stevedore.server.error.CriException.NotFound if there is no such pod
     * @throws io.stevedore.server.error.CriException.FailedPrecondition if it is not ready
     */
    Pod ready(String sandboxId, boolean sharedPid);

    /** The runtime handler of a pod that may no longer be ready (for stop and remove). */
    String runtimeHandler(String sandboxId);

    /** A ready pod. */
    record Pod(PodContext context, String runtimeHandler) {}
}

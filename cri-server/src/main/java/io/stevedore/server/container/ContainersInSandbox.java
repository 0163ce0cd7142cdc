package io.stevedore.server.container;

import io.stevedore.cri.v1.ContainerStatus;
import java.util.List;

/** What the sandbox service asks of the container service. */
public interface ContainersInSandbox {
    /** Stops every container of the pod (SIGKILL after {@code timeoutSeconds}). */
    void stopAll(String sandboxId, long timeoutSeconds);

    /** Removes every container of the pod. */
    void removeAll(String sandboxId);

    /** The statuses of the pod's containers. */
    List<ContainerStatus> statuses(String sandboxId);
}

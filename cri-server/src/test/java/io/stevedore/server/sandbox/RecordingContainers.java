package io.stevedore.server.sandbox;

import io.stevedore.cri.v1.ContainerStatus;
import io.stevedore.server.container.ContainersInSandbox;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** {@link ContainersInSandbox} for pods without containers: it records what it was asked. */
final class RecordingContainers implements ContainersInSandbox {
    private final List<String> calls = new CopyOnWriteArrayList<>();
    volatile RuntimeException failStopAll;

    @Override
    public void stopAll(String sandboxId, long timeoutSeconds) {
        calls.add("stopAll " + sandboxId);
        if (failStopAll != null) throw failStopAll;
    }

    @Override
    public void removeAll(String sandboxId) {
        calls.add("removeAll " + sandboxId);
    }

    @Override
    public List<ContainerStatus> statuses(String sandboxId) {
        return List.of();
    }

    List<String> calls() {
        return List.copyOf(calls);
    }
}

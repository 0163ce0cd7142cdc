package io.stevedore.server.sandbox;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** {@link PodCgroups} that touches no cgroupfs: it records the cgroups removed. */
final class RecordingPodCgroups implements PodCgroups {
    private final List<String> removed = new CopyOnWriteArrayList<>();

    @Override
    public void join(String path, int pid) {
        throw new UnsupportedOperationException("the sandbox service joins no cgroup itself");
    }

    @Override
    public void remove(String path) {
        removed.add(path);
    }

    List<String> removed() {
        return List.copyOf(removed);
    }
}

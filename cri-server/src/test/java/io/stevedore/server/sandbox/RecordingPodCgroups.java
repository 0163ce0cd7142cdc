package io.stevedore.server.sandbox;

import io.stevedore.oci.spec.Resources;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** {@link PodCgroups} that touches no cgroupfs: it records the limits set and the cgroups removed. */
final class RecordingPodCgroups implements PodCgroups {
    /** One {@code set} call. */
    record Set(String path, Resources limits) {}

    private final List<String> removed = new CopyOnWriteArrayList<>();
    private final List<Set> sets = new CopyOnWriteArrayList<>();
    /** When set, {@code set} fails with this message (the kernel refused a limit). */
    volatile String failSet;

    @Override
    public void join(String path, int pid) {
        throw new UnsupportedOperationException("the sandbox service joins no cgroup itself");
    }

    @Override
    public void set(String path, Resources limits) throws IOException {
        String fail = failSet;
        if (fail != null) throw new IOException(fail);
        sets.add(new Set(path, limits));
    }

    @Override
    public void remove(String path) {
        removed.add(path);
    }

    List<String> removed() {
        return List.copyOf(removed);
    }

    List<Set> sets() {
        return List.copyOf(sets);
    }
}

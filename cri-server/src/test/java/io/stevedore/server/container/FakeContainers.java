package io.stevedore.server.container;

import io.stevedore.server.events.LifecycleEvents;
import io.stevedore.server.host.Runtimes;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Function;

/** {@link ContainerHarness} for tests of other packages: a container service over fakes. */
public final class FakeContainers implements AutoCloseable {
    private final ContainerHarness harness;

    /** @param pods the pods containers are made in, given the fake runtimes ("runc") */
    public FakeContainers(Path dir, Function<Runtimes, Pods> pods) throws IOException {
        this(dir, pods, LifecycleEvents.NONE);
    }

    /** @param events told of the containers' transitions */
    public FakeContainers(Path dir, Function<Runtimes, Pods> pods, LifecycleEvents events) throws IOException {
        this.harness = new ContainerHarness(dir, pods, events);
    }

    public ContainerService service() {
        return harness.service;
    }

    /** Fake containers whose processes still run. */
    public long running() {
        return harness.shims.alive();
    }

    /** Root file systems still "mounted". */
    public int mounted() {
        return harness.rootfs.mounted.size();
    }

    @Override
    public void close() throws IOException {
        harness.close();
    }
}

package io.stevedore.server.container;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.cri.v1.ContainerState;
import io.stevedore.cri.v1.LinuxContainerResources;
import io.stevedore.oci.spec.Resources;
import io.stevedore.oci.spec.SpecJson;
import io.stevedore.server.error.CriException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** UpdateContainerResources over fakes ({@link ContainerHarness}): the bundle is the spec in force. */
class ContainerUpdateTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    ContainerHarness h;

    @BeforeEach
    void start() throws IOException {
        h = new ContainerHarness(dir);
    }

    @AfterEach
    void stop() throws IOException {
        h.close();
    }

    private ContainerService svc() {
        return h.service;
    }

    private static LinuxContainerResources memory(long bytes) {
        return LinuxContainerResources.newBuilder().setMemoryLimitInBytes(bytes).build();
    }

    private static LinuxContainerResources quota(long quota) {
        return LinuxContainerResources.newBuilder()
                .setCpuQuota(quota)
                .setCpuPeriod(100_000)
                .build();
    }

    private Resources bundleResources(String id) throws IOException {
        return SpecJson.read(h.env.bundle(id).resolve("config.json")).linux().resources();
    }

    @Test
    void update_createdContainer_rewritesTheBundleSoTheStartAppliesIt() throws IOException {
        String id = h.create("web");

        svc().updateResources(id, memory(64 * MIB));

        assertEquals(64 * MIB, bundleResources(id).memory().limit());
        assertEquals(0, h.runtime.count("update"), "nothing runs yet: the start applies config.json");
        assertEquals(64 * MIB, svc().status(id).getResources().getLinux().getMemoryLimitInBytes());
    }

    @Test
    void update_createdContainerTwice_theSecondStartsFromTheFirst() throws IOException {
        String id = h.create("web");

        svc().updateResources(id, memory(64 * MIB));
        svc().updateResources(id, quota(50_000));

        Resources r = bundleResources(id);
        assertEquals(64 * MIB, r.memory().limit(), "the first update's limit is kept");
        assertEquals(50_000L, r.cpu().quota());
        var status = svc().status(id).getResources().getLinux();
        assertEquals(64 * MIB, status.getMemoryLimitInBytes());
        assertEquals(50_000, status.getCpuQuota());
    }

    @Test
    void update_runningContainer_startsFromTheLimitsInForceNotTheCreatedOnes() throws IOException {
        String id = h.create("web");
        svc().start(id);

        svc().updateResources(id, memory(64 * MIB));
        svc().updateResources(id, quota(50_000));

        assertEquals(2, h.runtime.updates.size());
        Resources second = h.runtime.updates.get(1);
        assertEquals(64 * MIB, second.memory().limit(), "the second update keeps the first's memory limit");
        assertEquals(50_000L, second.cpu().quota());
        assertEquals(second, bundleResources(id), "config.json is the spec in force");
        assertEquals(64 * MIB, svc().status(id).getResources().getLinux().getMemoryLimitInBytes());
    }

    @Test
    void update_runtimeRefuses_bundleAndStatusAreLeftAsTheyWere() throws IOException {
        String id = h.create("web");
        svc().start(id);
        Resources before = bundleResources(id);
        h.runtime.failUpdate = "memory limit too low";

        var e = assertThrows(IllegalStateException.class, () -> svc().updateResources(id, memory(MIB)));

        assertTrue(e.getMessage().contains("memory limit too low"), e.getMessage());
        assertEquals(before, bundleResources(id));
        assertFalse(svc().status(id).getResources().getLinux().getMemoryLimitInBytes() == MIB);
    }

    @Test
    void update_exitedContainer_isFailedPrecondition() {
        String id = h.create("web");
        svc().start(id);
        svc().stop(id, 10);

        assertThrows(CriException.FailedPrecondition.class, () -> svc().updateResources(id, memory(64 * MIB)));
        assertEquals(0, h.runtime.count("update"));
    }

    @Test
    void update_unknownContainer_isNotFound() {
        assertThrows(CriException.NotFound.class, () -> svc().updateResources("nope", memory(64 * MIB)));
    }

    @Test
    void update_duringAStart_waitsForItAndReachesTheRuntime() throws Exception {
        String id = h.create("web");
        h.shims.gate = new CountDownLatch(1);
        var started = CompletableFuture.runAsync(() -> svc().start(id), ContainerLifecycleTest.VT);
        h.shims.entered.await();

        var updated = CompletableFuture.runAsync(
                () -> svc().updateResources(id, memory(64 * MIB)), ContainerLifecycleTest.VT);
        await().during(Duration.ofMillis(200)).until(() -> !updated.isDone());
        h.shims.gate.countDown();

        started.get();
        updated.get();
        assertEquals(ContainerState.CONTAINER_RUNNING, svc().status(id).getState());
        assertEquals(1, h.runtime.updates.size(), "applied to the running container");
        assertEquals(64 * MIB, h.runtime.updates.getFirst().memory().limit());
    }
}

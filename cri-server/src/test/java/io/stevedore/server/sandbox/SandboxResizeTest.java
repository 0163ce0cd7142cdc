package io.stevedore.server.sandbox;

import static io.stevedore.server.sandbox.SandboxFixture.pod;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.cri.v1.LinuxContainerResources;
import io.stevedore.server.error.CriException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** UpdatePodSandboxResources over recording fakes: what is recorded, and which cgroup is sized. */
class SandboxResizeTest {
    private static final long MIB = 1 << 20;
    private static final PodResources RESIZED = new PodResources(
            LinuxContainerResources.newBuilder()
                    .setMemoryLimitInBytes(8 * MIB)
                    .setCpuQuota(10_000)
                    .build(),
            LinuxContainerResources.newBuilder()
                    .setMemoryLimitInBytes(64 * MIB)
                    .setCpuQuota(50_000)
                    .setCpuPeriod(100_000)
                    .setCpuShares(512)
                    .build());

    @TempDir
    Path tmp;

    private SandboxFixture f;
    private SandboxService pods;

    @BeforeEach
    void start() throws Exception {
        f = new SandboxFixture(tmp);
        pods = f.start();
    }

    private SandboxStatus status(String id) {
        return pods.records().stream()
                .filter(r -> r.id().equals(id))
                .findFirst()
                .orElseThrow()
                .status();
    }

    @Test
    void resize_podWithItsOwnParent_sizesThatCgroupToTheSumAndRecordsIt() {
        String id = pods.run(pod("web"), "");

        pods.updateResources(id, RESIZED);

        var set = f.cgroups.sets();
        assertEquals(1, set.size());
        assertEquals("/stevedore/" + id, set.getFirst().path());
        var limits = set.getFirst().limits();
        assertEquals(72 * MIB, limits.memory().limit(), "the containers' sum plus the overhead");
        assertEquals(60_000L, limits.cpu().quota());
        assertEquals(100_000L, limits.cpu().period());
        assertEquals(512L, limits.cpu().shares());
        assertEquals(RESIZED, status(id).resources());
        assertFalse(status(id).isBusy());
    }

    @Test
    void resize_podInTheKubeletsParent_isOnlyRecorded() {
        var cfg = pod("web").toBuilder();
        cfg.getLinuxBuilder().setCgroupParent("/kubepods/burstable/pod-uid-web");
        String id = pods.run(cfg.build(), "");

        pods.updateResources(id, RESIZED);

        assertEquals(List.of(), f.cgroups.sets(), "the kubelet sized its own cgroup before calling");
        assertEquals(RESIZED, status(id).resources());
    }

    @Test
    void resize_stoppedPod_isOnlyRecorded_itsCgroupIsGone() {
        String id = pods.run(pod("web"), "");
        pods.stop(id);

        pods.updateResources(id, RESIZED);

        assertEquals(List.of(), f.cgroups.sets());
        assertEquals(RESIZED, status(id).resources());
    }

    @Test
    void resize_kernelRefusesALimit_failsAndRecordsNothing() {
        String id = pods.run(pod("web"), "");
        f.cgroups.failSet = "write 1048576 to memory.limit_in_bytes: Device or resource busy";

        var e = assertThrows(IllegalStateException.class, () -> pods.updateResources(id, RESIZED));

        assertTrue(e.getMessage().contains("memory.limit_in_bytes"), e.getMessage());
        assertTrue(e.getMessage().contains(id), e.getMessage());
        assertNull(status(id).resources());
        assertFalse(status(id).isBusy(), "the resize flag is cleared");
        assertTrue(pods.status(id).getState() == io.stevedore.cri.v1.PodSandboxState.SANDBOX_READY);
    }

    @Test
    void resize_unknownPod_isNotFound() {
        assertThrows(CriException.NotFound.class, () -> pods.updateResources("nope", RESIZED));
    }

    @Test
    void resize_survivesARestart() throws Exception {
        String id = pods.run(pod("web"), "");
        pods.updateResources(id, RESIZED);

        pods = f.start();

        assertEquals(RESIZED, status(id).resources());
    }
}

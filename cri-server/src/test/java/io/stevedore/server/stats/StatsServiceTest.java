package io.stevedore.server.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.cri.v1.ContainerConfig;
import io.stevedore.cri.v1.ContainerMetadata;
import io.stevedore.cri.v1.ContainerStatsFilter;
import io.stevedore.cri.v1.ImageSpec;
import io.stevedore.cri.v1.PodSandboxStatsFilter;
import io.stevedore.server.container.FakeContainers;
import io.stevedore.server.host.CgroupPaths;
import io.stevedore.server.sandbox.FakeSandboxes;
import io.stevedore.server.sandbox.SandboxService;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stats over the real pod and container services (on fakes) and a fake cgroup v2 tree. */
class StatsServiceTest {
    @TempDir
    Path dir;

    SandboxService sandboxes;
    FakeContainers containers;
    Path cgroupRoot;
    CriStats cri;
    StatsService stats;

    @BeforeEach
    void start() throws IOException {
        var pods = new FakeSandboxes(dir.resolve("pods"));
        containers = new FakeContainers(dir.resolve("containers"), runtimes -> {
            try {
                sandboxes = pods.start(runtimes);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return sandboxes;
        });
        sandboxes.setContainers(containers.service());
        cgroupRoot = Files.createDirectories(dir.resolve("cgroup"));
        Files.writeString(cgroupRoot.resolve("cgroup.controllers"), "cpu memory pids\n");
        cri = new CriStats(InstantSource.system());
        stats = new StatsService(sandboxes, containers.service(), new CgroupStats(cgroupRoot), cri);
    }

    @AfterEach
    void stop() throws IOException {
        containers.close();
    }

    /** Makes the cgroup exist, so that it is sampled (and a CPU point kept). */
    private void cgroup(String path) throws IOException {
        Files.createDirectories(cgroupRoot.resolve(CgroupPaths.relative(path)));
    }

    @Test
    void listStats_overCreateRemoveCycles_keptSamplesDoNotGrow() throws IOException {
        for (int i = 0; i < 10; i++) {
            // given: a running pod with a running container, both sampled
            String pod = sandboxes.run(FakeSandboxes.pod("p" + i), "");
            cgroup(sandboxes.record(pod).cgroupParent());
            String c = containers
                    .service()
                    .create(
                            pod,
                            ContainerConfig.newBuilder()
                                    .setMetadata(ContainerMetadata.newBuilder().setName("c" + i))
                                    .setImage(ImageSpec.newBuilder().setImage("busybox"))
                                    .addCommand("sleep")
                                    .addCommand("100000")
                                    .build());
            containers.service().start(c);
            cgroup(containers.service().record(c).cgroupsPath());
            assertEquals(
                    1, stats.pods(PodSandboxStatsFilter.getDefaultInstance()).size());
            assertEquals(
                    1,
                    stats.containers(ContainerStatsFilter.getDefaultInstance()).size());
            assertEquals(2, cri.size(), "one point for the pod, one for its container");

            // when: both are removed, as the kubelet does
            sandboxes.stop(pod);
            sandboxes.remove(pod);

            // then: the next list forgets them
            assertEquals(
                    0, stats.pods(PodSandboxStatsFilter.getDefaultInstance()).size());
            assertEquals(0, cri.size(), "cycle " + i + ": samples of removed objects are dropped");
        }
        assertTrue(containers.service().records().isEmpty());
    }
}

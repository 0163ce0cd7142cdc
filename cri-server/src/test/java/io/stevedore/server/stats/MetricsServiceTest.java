package io.stevedore.server.stats;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.cri.v1.ContainerConfig;
import io.stevedore.cri.v1.ContainerMetadata;
import io.stevedore.cri.v1.ImageSpec;
import io.stevedore.cri.v1.LinuxContainerConfig;
import io.stevedore.cri.v1.LinuxContainerResources;
import io.stevedore.cri.v1.Metric;
import io.stevedore.cri.v1.PodSandboxMetrics;
import io.stevedore.server.container.FakeContainers;
import io.stevedore.server.host.CgroupPaths;
import io.stevedore.server.sandbox.FakeSandboxes;
import io.stevedore.server.sandbox.SandboxService;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Metrics over the real pod and container services (on fakes), a fake cgroup v2 tree and /proc. */
class MetricsServiceTest {
    private static final Instant NOW = Instant.parse("2026-12-03T19:00:00Z");
    private static final String PROC_NET_DEV = """
            Inter-|   Receive                                                |  Transmit
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
                lo:     560       8    0    0    0     0          0         0      560       8    0    0    0     0       0          0
              eth0:   14252     117    1    3    0     0          0         0     5326      42    2    4    0     0       0          0
            """;

    @TempDir
    Path dir;

    SandboxService sandboxes;
    FakeContainers containers;
    Path cgroupRoot;
    Path netDev;

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
        netDev = Files.writeString(dir.resolve("net-dev"), PROC_NET_DEV);
    }

    @AfterEach
    void stop() throws IOException {
        containers.close();
    }

    private MetricsService metrics(Function<Path, List<String>> netReader) {
        var network = new NetworkStats(Duration.ofSeconds(5), InstantSource.fixed(NOW), netReader);
        return new MetricsService(
                sandboxes,
                containers.service(),
                new CgroupStats(cgroupRoot),
                network,
                dir.resolve("proc"),
                InstantSource.fixed(NOW));
    }

    private MetricsService metrics() {
        return metrics(pin -> List.of("cat", netDev.toString()));
    }

    /** A ready pod whose network pin exists, so its interfaces are read. */
    private String pod(String name) throws IOException {
        String id = sandboxes.run(FakeSandboxes.pod(name), "");
        Path pin = Path.of(sandboxes.record(id).netns());
        Files.createDirectories(pin.getParent());
        if (!Files.exists(pin)) Files.createFile(pin);
        return id;
    }

    private String container(String pod, String name, long memoryLimit) {
        var cfg = ContainerConfig.newBuilder()
                .setMetadata(ContainerMetadata.newBuilder().setName(name))
                .setImage(ImageSpec.newBuilder().setImage("busybox"))
                .setLinux(LinuxContainerConfig.newBuilder()
                        .setResources(LinuxContainerResources.newBuilder()
                                .setMemoryLimitInBytes(memoryLimit)
                                .setCpuShares(512)))
                .addCommand("sleep")
                .build();
        return containers.service().create(pod, cfg);
    }

    private void cgroupFile(String cgroupsPath, String file, String content) throws IOException {
        Path d = Files.createDirectories(cgroupRoot.resolve(CgroupPaths.relative(cgroupsPath)));
        Files.writeString(d.resolve(file), content);
    }

    private static Map<String, Metric> byName(List<Metric> metrics) {
        return metrics.stream().collect(Collectors.toMap(Metric::getName, m -> m, (a, b) -> a));
    }

    @Test
    void list_readyPodWithRunningContainer_podNetworkAndContainerCgroup() throws IOException {
        // given
        String pod = pod("web");
        String c = container(pod, "app", 64L << 20);
        containers.service().start(c);
        String cg = containers.service().record(c).cgroupsPath();
        cgroupFile(cg, "cpu.stat", "usage_usec 7200000\nuser_usec 7000000\nsystem_usec 200000\n");
        cgroupFile(cg, "memory.current", "4096\n");
        container(pod, "never-started", 0);

        // when
        List<PodSandboxMetrics> all = metrics().list();

        // then: the pod's series carry the sandbox id and no container or image
        assertEquals(1, all.size());
        PodSandboxMetrics p = all.get(0);
        assertEquals(pod, p.getPodSandboxId());
        Map<String, Metric> podLevel = byName(p.getMetricsList());
        Metric rx = podLevel.get("container_network_receive_bytes_total");
        assertEquals(List.of("web", "default", "", pod, "", "eth0"), rx.getLabelValuesList());
        assertEquals(14252, rx.getValue().getValue());
        assertEquals(
                3,
                podLevel.get("container_network_receive_packets_dropped_total")
                        .getValue()
                        .getValue());
        assertEquals(
                4,
                podLevel.get("container_network_transmit_packets_dropped_total")
                        .getValue()
                        .getValue());
        // and only the running container is measured
        assertEquals(1, p.getContainerMetricsCount());
        assertEquals(c, p.getContainerMetrics(0).getContainerId());
        Map<String, Metric> m = byName(p.getContainerMetrics(0).getMetricsList());
        Metric cpu = m.get("container_cpu_usage_seconds_total");
        assertEquals(7, cpu.getValue().getValue());
        assertEquals(List.of("web", "default", "app", c, "busybox"), cpu.getLabelValuesList());
        assertEquals(NOW.getEpochSecond() * 1_000_000_000L, cpu.getTimestamp());
        assertEquals(
                4096, m.get("container_memory_working_set_bytes").getValue().getValue());
        assertEquals(
                64L << 20, m.get("container_spec_memory_limit_bytes").getValue().getValue());
        assertEquals(512, m.get("container_spec_cpu_shares").getValue().getValue());
        assertEquals(
                NOW.getEpochSecond(), m.get("container_last_seen").getValue().getValue());
    }

    @Test
    void list_everyMetricNamedByADescriptorWithItsLabelCount() throws IOException {
        String pod = pod("web");
        String c = container(pod, "app", 0);
        containers.service().start(c);
        String cg = containers.service().record(c).cgroupsPath();
        cgroupFile(cg, "cpu.stat", "usage_usec 1\n");
        cgroupFile(cg, "memory.current", "1\n");
        cgroupFile(cg, "pids.current", "1\n");
        Map<String, Integer> keys = metrics().descriptors().stream()
                .collect(Collectors.toMap(d -> d.getName(), d -> d.getLabelKeysCount()));

        PodSandboxMetrics p = metrics().list().get(0);

        var all = new java.util.ArrayList<>(p.getMetricsList());
        all.addAll(p.getContainerMetrics(0).getMetricsList());
        assertTrue(all.size() > 20, "metrics: " + all.size());
        for (Metric metric : all) {
            assertEquals(keys.get(metric.getName()), metric.getLabelValuesCount(), metric.getName());
        }
    }

    @Test
    void list_notReadyPod_isLeftOut() throws IOException {
        String ready = pod("a");
        String stopped = pod("b");
        sandboxes.stop(stopped);

        List<String> ids = metrics().list().stream()
                .map(PodSandboxMetrics::getPodSandboxId)
                .toList();

        assertEquals(List.of(ready), ids);
    }

    @Test
    void list_manyPods_readConcurrentlyButNeverPastTheBound() throws Exception {
        // given: ten pods whose network readers hold their permit until released
        int pods = 10;
        for (int i = 0; i < pods; i++) pod("p" + i);
        var inFlight = new AtomicInteger();
        var most = new AtomicInteger();
        var release = new CountDownLatch(1);
        Function<Path, List<String>> reader = pin -> {
            most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            inFlight.decrementAndGet();
            return List.of("cat", netDev.toString());
        };
        MetricsService service = metrics(reader);

        // when: the list runs while the first readers are held
        var listed = CompletableFuture.supplyAsync(service::list);

        // then: the bound is reached and not passed while they are held
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> inFlight.get() == MetricsService.MAX_CONCURRENT);
            await().during(Duration.ofMillis(300))
                    .atMost(Duration.ofSeconds(2))
                    .until(() -> inFlight.get() == MetricsService.MAX_CONCURRENT);
        } finally {
            release.countDown();
        }
        List<PodSandboxMetrics> all = listed.get(30, TimeUnit.SECONDS);
        // and every pod is listed, in store order
        assertEquals(
                sandboxes.records().stream().map(r -> r.id()).toList(),
                all.stream().map(PodSandboxMetrics::getPodSandboxId).toList());
        assertEquals(pods, all.size());
        assertEquals(MetricsService.MAX_CONCURRENT, most.get());
    }
}

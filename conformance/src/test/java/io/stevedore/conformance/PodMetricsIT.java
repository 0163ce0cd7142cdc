package io.stevedore.conformance;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.conformance.registry.BusyboxImage;
import io.stevedore.conformance.registry.TestImages;
import io.stevedore.conformance.registry.TestRegistry;
import io.stevedore.cri.v1.*;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The metrics RPCs against a real daemon (issue 14): a host-network pod with a container spinning
 * on the CPU gets the cAdvisor metrics the kubelet's CRI collector reads, its CPU counter moves, and
 * every sample's labels line up with its descriptor's keys.
 */
@RequiresRoot
class PodMetricsIT {
    static final long MEMORY_LIMIT = 64L << 20;
    static final List<String> NAMED = List.of(
            "container_cpu_usage_seconds_total",
            "container_cpu_user_seconds_total",
            "container_cpu_system_seconds_total",
            "container_memory_working_set_bytes",
            "container_memory_usage_bytes",
            "container_memory_rss",
            "container_memory_cache",
            "container_fs_usage_bytes",
            "container_processes",
            "container_last_seen",
            "container_start_time_seconds",
            "container_spec_memory_limit_bytes");

    static Path dir;
    static TestRegistry registry;
    static DaemonProcess daemon;
    static CriClient client;
    static String image;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory("sd-metrics-");
        registry = TestRegistry.start();
        image = BusyboxImage.push(new TestImages(registry), "test/busybox", "1").reference();
        Path cni = Files.createDirectories(dir.resolve("net.d")); // empty: host-network pods only
        Path cfg = dir.resolve("stevedore.toml");
        Files.writeString(cfg, "[cni]\nconf_dir = \"" + cni + "\"\n");
        daemon = DaemonProcess.start(dir.resolve("d"), "--config", cfg.toString());
        client = CriClient.connect(daemon.socket());
        client.images()
                .pullImage(PullImageRequest.newBuilder()
                        .setImage(ImageSpec.newBuilder().setImage(image))
                        .build());
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            if (client != null) {
                for (var p : rt().listPodSandbox(ListPodSandboxRequest.getDefaultInstance())
                        .getItemsList()) {
                    rt().stopPodSandbox(StopPodSandboxRequest.newBuilder()
                            .setPodSandboxId(p.getId())
                            .build());
                    rt().removePodSandbox(RemovePodSandboxRequest.newBuilder()
                            .setPodSandboxId(p.getId())
                            .build());
                }
                client.close();
            }
            if (daemon != null) assertEquals(0, daemon.terminate(), daemon::stderrText);
            assertEquals(List.of(), PodContainerIT.mountsUnder(dir), "no mount left behind");
            await("no shim or container outlives its pod")
                    .atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertEquals(List.of(), Host.processesNaming(dir)));
        } finally {
            if (daemon != null) daemon.close(); // a failed check above must not leave it running
            if (registry != null) registry.close();
            LiveDaemon.deleteTree(dir);
        }
    }

    @Test
    void busyContainer_namedMetricsWithMovingCpu() {
        // given: a pod on the host's network with a container that spins
        var podCfg = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder()
                        .setName("metrics")
                        .setNamespace("it")
                        .setUid(UUID.randomUUID().toString()))
                .setLogDirectory(dir.resolve("logs").toString())
                .setLinux(LinuxPodSandboxConfig.newBuilder()
                        .setSecurityContext(LinuxSandboxSecurityContext.newBuilder()
                                .setNamespaceOptions(
                                        NamespaceOption.newBuilder().setNetwork(NamespaceMode.NODE))))
                .build();
        String pod = rt().runPodSandbox(
                        RunPodSandboxRequest.newBuilder().setConfig(podCfg).build())
                .getPodSandboxId();
        String busy = rt().createContainer(CreateContainerRequest.newBuilder()
                        .setPodSandboxId(pod)
                        .setConfig(ContainerConfig.newBuilder()
                                .setMetadata(ContainerMetadata.newBuilder().setName("busy"))
                                .setImage(ImageSpec.newBuilder().setImage(image))
                                .addAllCommand(List.of("sh", "-c", "while :; do :; done"))
                                .setLogPath("busy.log")
                                .setLinux(LinuxContainerConfig.newBuilder()
                                        .setResources(LinuxContainerResources.newBuilder()
                                                .setMemoryLimitInBytes(MEMORY_LIMIT))))
                        .setSandboxConfig(podCfg)
                        .build())
                .getContainerId();
        rt().startContainer(
                        StartContainerRequest.newBuilder().setContainerId(busy).build());

        // when: the descriptors are listed
        Map<String, MetricDescriptor> descriptors =
                rt()
                        .listMetricDescriptors(ListMetricDescriptorsRequest.getDefaultInstance())
                        .getDescriptorsList()
                        .stream()
                        .collect(Collectors.toMap(MetricDescriptor::getName, d -> d));

        // then: each named metric is described with the kubelet's cAdvisor labels
        for (String name : NAMED) {
            assertTrue(descriptors.containsKey(name), "no descriptor for " + name);
            assertEquals(
                    List.of("pod", "namespace", "container", "id", "image"),
                    descriptors.get(name).getLabelKeysList().subList(0, 5),
                    name);
        }

        // and: the busy container's CPU counter passes one second
        await("CPU time of the busy container is counted")
                .atMost(Duration.ofSeconds(60))
                .until(() -> value(listed(pod, busy), "container_cpu_usage_seconds_total") >= 1);
        List<Metric> metrics = listed(pod, busy).orElseThrow();
        for (String name : NAMED) {
            assertTrue(metrics.stream().anyMatch(m -> m.getName().equals(name)), "no sample of " + name);
        }
        for (Metric m : metrics) {
            assertEquals(descriptors.get(m.getName()).getLabelKeysCount(), m.getLabelValuesCount(), m.getName());
            assertEquals(
                    List.of("metrics", "it", "busy", busy, image),
                    m.getLabelValuesList().subList(0, 5));
        }
        assertEquals(MEMORY_LIMIT, value(Optional.of(metrics), "container_spec_memory_limit_bytes"));
        assertTrue(value(Optional.of(metrics), "container_memory_working_set_bytes") > 0);
        assertTrue(value(Optional.of(metrics), "container_processes") >= 1);

        // and: the stream sends the same pods, one message each, then ends
        var streamed = new ArrayList<PodSandboxMetrics>();
        rt().streamPodSandboxMetrics(StreamPodSandboxMetricsRequest.getDefaultInstance())
                .forEachRemaining(r -> streamed.addAll(r.getPodSandboxMetricsList()));
        assertEquals(
                List.of(pod),
                streamed.stream().map(PodSandboxMetrics::getPodSandboxId).toList());
        assertEquals(busy, streamed.get(0).getContainerMetrics(0).getContainerId());
        assertEquals(List.of(), streamed.get(0).getMetricsList(), "host network: no pod-level interfaces");
    }

    /** The container's samples from ListPodSandboxMetrics, when it is listed. */
    static Optional<List<Metric>> listed(String pod, String container) {
        return rt()
                .listPodSandboxMetrics(ListPodSandboxMetricsRequest.getDefaultInstance())
                .getPodMetricsList()
                .stream()
                .filter(p -> p.getPodSandboxId().equals(pod))
                .flatMap(p -> p.getContainerMetricsList().stream())
                .filter(c -> c.getContainerId().equals(container))
                .findFirst()
                .map(ContainerMetrics::getMetricsList);
    }

    static long value(Optional<List<Metric>> metrics, String name) {
        return metrics.orElse(List.of()).stream()
                .filter(m -> m.getName().equals(name))
                .mapToLong(m -> m.getValue().getValue())
                .findFirst()
                .orElse(-1);
    }

    static RuntimeServiceGrpc.RuntimeServiceBlockingStub rt() {
        return client.runtime().withDeadlineAfter(60, TimeUnit.SECONDS);
    }
}

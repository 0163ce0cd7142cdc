package io.stevedore.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.stevedore.cri.v1.ListMetricDescriptorsRequest;
import io.stevedore.cri.v1.ListPodSandboxMetricsRequest;
import io.stevedore.cri.v1.MetricDescriptor;
import io.stevedore.cri.v1.PodSandboxMetrics;
import io.stevedore.cri.v1.RuntimeServiceGrpc;
import io.stevedore.cri.v1.StreamPodSandboxMetricsRequest;
import io.stevedore.cri.v1.StreamPodSandboxMetricsResponse;
import io.stevedore.server.container.FakeContainers;
import io.stevedore.server.sandbox.FakeSandboxes;
import io.stevedore.server.sandbox.SandboxService;
import io.stevedore.server.stats.CgroupStats;
import io.stevedore.server.stats.StatsService;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The metrics RPCs over the in-process transport, on fake pods and an empty cgroup v2 tree. */
class MetricsRpcTest {
    @TempDir
    Path dir;

    SandboxService sandboxes;
    FakeContainers containers;
    Server server;
    ManagedChannel channel;
    RuntimeServiceGrpc.RuntimeServiceBlockingStub runtime;

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
        Path cgroups = Files.createDirectories(dir.resolve("cgroup"));
        Files.writeString(cgroups.resolve("cgroup.controllers"), "cpu memory\n");
        var stats = new StatsService(sandboxes, containers.service(), new CgroupStats(cgroups));
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name)
                .directExecutor()
                .addService(new RuntimeGrpcService(
                        new Rpc(() -> true), null, sandboxes, containers.service(), stats, null, null))
                .build()
                .start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        runtime = RuntimeServiceGrpc.newBlockingStub(channel);
    }

    @AfterEach
    void stop() throws IOException {
        channel.shutdownNow();
        server.shutdownNow();
        containers.close();
    }

    @Test
    void listMetricDescriptors_namesTheKubeletsCadvisorMetrics() {
        List<String> names =
                runtime
                        .listMetricDescriptors(ListMetricDescriptorsRequest.getDefaultInstance())
                        .getDescriptorsList()
                        .stream()
                        .map(MetricDescriptor::getName)
                        .toList();

        assertTrue(names.contains("container_cpu_usage_seconds_total"), names.toString());
        assertTrue(names.contains("container_memory_working_set_bytes"), names.toString());
        assertTrue(names.contains("container_network_receive_bytes_total"), names.toString());
    }

    @Test
    void streamPodSandboxMetrics_oneMessagePerPod_sameAsList() throws IOException {
        String a = sandboxes.run(FakeSandboxes.pod("a"), "");
        String b = sandboxes.run(FakeSandboxes.pod("b"), "");

        var messages = new ArrayList<StreamPodSandboxMetricsResponse>();
        runtime.streamPodSandboxMetrics(StreamPodSandboxMetricsRequest.getDefaultInstance())
                .forEachRemaining(messages::add);
        List<String> listed =
                runtime
                        .listPodSandboxMetrics(ListPodSandboxMetricsRequest.getDefaultInstance())
                        .getPodMetricsList()
                        .stream()
                        .map(PodSandboxMetrics::getPodSandboxId)
                        .toList();

        assertEquals(2, messages.size());
        assertTrue(messages.stream().allMatch(m -> m.getPodSandboxMetricsCount() == 1), messages.toString());
        List<String> streamed = messages.stream()
                .map(m -> m.getPodSandboxMetrics(0).getPodSandboxId())
                .toList();
        assertEquals(Set.of(a, b), Set.copyOf(streamed));
        assertEquals(listed, streamed, "the same pods, in the same order");
    }

    @Test
    void streamPodSandboxMetrics_noPods_endsWithoutMessages() {
        var it = runtime.streamPodSandboxMetrics(StreamPodSandboxMetricsRequest.getDefaultInstance());

        assertFalse(it.hasNext());
    }
}

package io.stevedore.server.grpc;

import static io.stevedore.server.grpc.Requests.requireId;

import io.grpc.stub.StreamObserver;
import io.stevedore.cri.v1.*;
import io.stevedore.server.stats.StatsService;
import org.slf4j.event.Level;

/**
 * The bodies of the stats and metrics RPCs, which {@link RuntimeGrpcService} delegates to so that it
 * stays a readable list of one-line overrides. The same rules apply: {@link Rpc} for readiness,
 * logging (DEBUG: the kubelet polls these) and errors, then one call into {@link StatsService}.
 */
final class StatsCalls {
    private final Rpc rpc;
    private final StatsService stats;

    StatsCalls(Rpc rpc, StatsService stats) {
        this.rpc = rpc;
        this.stats = stats;
    }

    void podSandboxStats(PodSandboxStatsRequest req, StreamObserver<PodSandboxStatsResponse> out) {
        rpc.unary(
                "PodSandboxStats",
                Level.DEBUG,
                req.getPodSandboxId(),
                out,
                () -> PodSandboxStatsResponse.newBuilder()
                        .setStats(stats.pod(requireId(req.getPodSandboxId(), "pod_sandbox_id")))
                        .build());
    }

    void listPodSandboxStats(ListPodSandboxStatsRequest req, StreamObserver<ListPodSandboxStatsResponse> out) {
        rpc.unary(
                "ListPodSandboxStats",
                Level.DEBUG,
                "",
                out,
                () -> ListPodSandboxStatsResponse.newBuilder()
                        .addAllStats(stats.pods(req.getFilter()))
                        .build());
    }

    void streamPodSandboxStats(StreamPodSandboxStatsRequest req, StreamObserver<StreamPodSandboxStatsResponse> out) {
        rpc.serverStream("StreamPodSandboxStats", Level.DEBUG, out, send -> {
            send.accept(StreamPodSandboxStatsResponse.newBuilder()
                    .addAllPodSandboxStats(stats.pods(req.getFilter()))
                    .build());
        });
    }

    void listPodSandboxMetrics(ListPodSandboxMetricsRequest req, StreamObserver<ListPodSandboxMetricsResponse> out) {
        rpc.unary(
                "ListPodSandboxMetrics",
                Level.DEBUG,
                "",
                out,
                () -> ListPodSandboxMetricsResponse.newBuilder()
                        .addAllPodMetrics(stats.metrics().list())
                        .build());
    }

    void streamPodSandboxMetrics(
            StreamPodSandboxMetricsRequest req, StreamObserver<StreamPodSandboxMetricsResponse> out) {
        rpc.serverStream(
                "StreamPodSandboxMetrics",
                Level.DEBUG,
                out,
                // one response per pod; containerd batches them, any split is valid for the CRI
                send -> stats.metrics()
                        .list()
                        .forEach(pod -> send.accept(StreamPodSandboxMetricsResponse.newBuilder()
                                .addPodSandboxMetrics(pod)
                                .build())));
    }

    void listMetricDescriptors(ListMetricDescriptorsRequest req, StreamObserver<ListMetricDescriptorsResponse> out) {
        rpc.unary(
                "ListMetricDescriptors",
                Level.DEBUG,
                "",
                out,
                () -> ListMetricDescriptorsResponse.newBuilder()
                        .addAllDescriptors(stats.metrics().descriptors())
                        .build());
    }

    void containerStats(ContainerStatsRequest req, StreamObserver<ContainerStatsResponse> out) {
        rpc.unary(
                "ContainerStats",
                Level.DEBUG,
                req.getContainerId(),
                out,
                () -> ContainerStatsResponse.newBuilder()
                        .setStats(stats.container(requireId(req.getContainerId(), "container_id")))
                        .build());
    }

    void listContainerStats(ListContainerStatsRequest req, StreamObserver<ListContainerStatsResponse> out) {
        rpc.unary(
                "ListContainerStats",
                Level.DEBUG,
                "",
                out,
                () -> ListContainerStatsResponse.newBuilder()
                        .addAllStats(stats.containers(req.getFilter()))
                        .build());
    }

    void streamContainerStats(StreamContainerStatsRequest req, StreamObserver<StreamContainerStatsResponse> out) {
        rpc.serverStream("StreamContainerStats", Level.DEBUG, out, send -> {
            send.accept(StreamContainerStatsResponse.newBuilder()
                    .addAllContainerStats(stats.containers(req.getFilter()))
                    .build());
        });
    }
}

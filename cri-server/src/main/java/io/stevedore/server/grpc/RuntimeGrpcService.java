package io.stevedore.server.grpc;

import static io.stevedore.server.grpc.Requests.requireCommand;
import static io.stevedore.server.grpc.Requests.requireContainerConfig;
import static io.stevedore.server.grpc.Requests.requireId;
import static io.stevedore.server.grpc.Requests.requirePodConfig;

import io.grpc.stub.StreamObserver;
import io.stevedore.cri.v1.*;
import io.stevedore.server.container.ContainerService;
import io.stevedore.server.events.EventBus;
import io.stevedore.server.info.RuntimeInfoService;
import io.stevedore.server.sandbox.PodResources;
import io.stevedore.server.sandbox.SandboxService;
import io.stevedore.server.stats.StatsService;
import io.stevedore.server.streaming.StreamingServer;
import org.slf4j.event.Level;

/**
 * The CRI RuntimeService adapter: readiness, logging, validation and error mapping through
 * {@link Rpc}, then one call into a domain service. No logic lives here.
 */
public final class RuntimeGrpcService extends RuntimeServiceGrpc.RuntimeServiceImplBase {
    private final Rpc rpc;
    private final RuntimeInfoService info;
    private final SandboxService sandboxes;
    private final ContainerService containers;
    private final StatsCalls statsCalls;
    private final StreamingServer streaming;
    private final EventBus events;

    public RuntimeGrpcService(
            Rpc rpc,
            RuntimeInfoService info,
            SandboxService sandboxes,
            ContainerService containers,
            StatsService stats,
            StreamingServer streaming,
            EventBus events) {
        this.rpc = rpc;
        this.events = events;
        this.info = info;
        this.sandboxes = sandboxes;
        this.containers = containers;
        this.statsCalls = new StatsCalls(rpc, stats);
        this.streaming = streaming;
    }

    // ---- runtime information

    @Override
    public void version(VersionRequest req, StreamObserver<VersionResponse> out) {
        rpc.unary("Version", Level.DEBUG, "", out, info::version);
    }

    @Override
    public void status(StatusRequest req, StreamObserver<StatusResponse> out) {
        rpc.unary("Status", Level.DEBUG, "", out, () -> info.status(req.getVerbose()));
    }

    @Override
    public void runtimeConfig(RuntimeConfigRequest req, StreamObserver<RuntimeConfigResponse> out) {
        rpc.unary("RuntimeConfig", Level.DEBUG, "", out, info::runtimeConfig);
    }

    @Override
    public void updateRuntimeConfig(UpdateRuntimeConfigRequest req, StreamObserver<UpdateRuntimeConfigResponse> out) {
        rpc.unary("UpdateRuntimeConfig", Level.INFO, "", out, () -> {
            info.updateRuntimeConfig(req.getRuntimeConfig().getNetworkConfig().getPodCidr());
            return UpdateRuntimeConfigResponse.getDefaultInstance();
        });
    }

    // ---- pod sandboxes

    @Override
    public void runPodSandbox(RunPodSandboxRequest req, StreamObserver<RunPodSandboxResponse> out) {
        var name = req.getConfig().getMetadata().getName();
        rpc.unary("RunPodSandbox", Level.INFO, name, out, () -> {
            requirePodConfig(req.hasConfig(), req.getConfig());
            return RunPodSandboxResponse.newBuilder()
                    .setPodSandboxId(sandboxes.run(req.getConfig(), req.getRuntimeHandler()))
                    .build();
        });
    }

    @Override
    public void stopPodSandbox(StopPodSandboxRequest req, StreamObserver<StopPodSandboxResponse> out) {
        rpc.unary("StopPodSandbox", Level.INFO, req.getPodSandboxId(), out, () -> {
            // An unknown id is OK (api.proto: idempotent; containerd 2.x does the same).
            sandboxes
                    .stop(requireId(req.getPodSandboxId(), "pod_sandbox_id"))
                    .ifPresent(streaming::endSessions); // the CRI: stopping a pod ends its streams
            return StopPodSandboxResponse.getDefaultInstance();
        });
    }

    @Override
    public void removePodSandbox(RemovePodSandboxRequest req, StreamObserver<RemovePodSandboxResponse> out) {
        rpc.unary("RemovePodSandbox", Level.INFO, req.getPodSandboxId(), out, () -> {
            sandboxes.remove(requireId(req.getPodSandboxId(), "pod_sandbox_id"));
            streaming.endSessions(req.getPodSandboxId());
            return RemovePodSandboxResponse.getDefaultInstance();
        });
    }

    @Override
    public void podSandboxStatus(PodSandboxStatusRequest req, StreamObserver<PodSandboxStatusResponse> out) {
        rpc.unary("PodSandboxStatus", Level.DEBUG, req.getPodSandboxId(), out, () -> {
            String id = requireId(req.getPodSandboxId(), "pod_sandbox_id");
            var b = PodSandboxStatusResponse.newBuilder().setStatus(sandboxes.status(id));
            if (req.getVerbose()) {
                b.putAllInfo(sandboxes.verboseInfo(id));
                b.addAllContainersStatuses(sandboxes.containerStatuses(id));
            }
            return b.setTimestamp(io.stevedore.server.state.Dirs.nowNanos()).build();
        });
    }

    @Override
    public void listPodSandbox(ListPodSandboxRequest req, StreamObserver<ListPodSandboxResponse> out) {
        rpc.unary(
                "ListPodSandbox",
                Level.DEBUG,
                "",
                out,
                () -> ListPodSandboxResponse.newBuilder()
                        .addAllItems(sandboxes.list(req.getFilter()))
                        .build());
    }

    @Override
    public void streamPodSandboxes(StreamPodSandboxesRequest req, StreamObserver<StreamPodSandboxesResponse> out) {
        rpc.serverStream("StreamPodSandboxes", Level.DEBUG, out, send -> {
            send.accept(StreamPodSandboxesResponse.newBuilder()
                    .addAllPodSandboxes(sandboxes.list(req.getFilter()))
                    .build());
        });
    }

    @Override
    public void podSandboxStats(PodSandboxStatsRequest req, StreamObserver<PodSandboxStatsResponse> out) {
        statsCalls.podSandboxStats(req, out);
    }

    @Override
    public void listPodSandboxStats(ListPodSandboxStatsRequest req, StreamObserver<ListPodSandboxStatsResponse> out) {
        statsCalls.listPodSandboxStats(req, out);
    }

    @Override
    public void streamPodSandboxStats(
            StreamPodSandboxStatsRequest req, StreamObserver<StreamPodSandboxStatsResponse> out) {
        statsCalls.streamPodSandboxStats(req, out);
    }

    @Override
    public void listPodSandboxMetrics(
            ListPodSandboxMetricsRequest req, StreamObserver<ListPodSandboxMetricsResponse> out) {
        statsCalls.listPodSandboxMetrics(req, out);
    }

    @Override
    public void streamPodSandboxMetrics(
            StreamPodSandboxMetricsRequest req, StreamObserver<StreamPodSandboxMetricsResponse> out) {
        statsCalls.streamPodSandboxMetrics(req, out);
    }

    @Override
    public void listMetricDescriptors(
            ListMetricDescriptorsRequest req, StreamObserver<ListMetricDescriptorsResponse> out) {
        statsCalls.listMetricDescriptors(req, out);
    }

    @Override
    public void updatePodSandboxResources(
            UpdatePodSandboxResourcesRequest req, StreamObserver<UpdatePodSandboxResourcesResponse> out) {
        rpc.unary("UpdatePodSandboxResources", Level.INFO, req.getPodSandboxId(), out, () -> {
            sandboxes.updateResources(
                    requireId(req.getPodSandboxId(), "pod_sandbox_id"),
                    new PodResources(req.getOverhead(), req.getResources()));
            return UpdatePodSandboxResourcesResponse.getDefaultInstance();
        });
    }

    @Override
    public void portForward(PortForwardRequest req, StreamObserver<PortForwardResponse> out) {
        rpc.unary("PortForward", Level.INFO, req.getPodSandboxId(), out, () -> {
            requireId(req.getPodSandboxId(), "pod_sandbox_id");
            return PortForwardResponse.newBuilder()
                    .setUrl(streaming.portForward(req))
                    .build();
        });
    }

    // ---- containers

    @Override
    public void createContainer(CreateContainerRequest req, StreamObserver<CreateContainerResponse> out) {
        rpc.unary("CreateContainer", Level.INFO, req.getPodSandboxId(), out, () -> {
            requireId(req.getPodSandboxId(), "pod_sandbox_id");
            requireContainerConfig(req.hasConfig(), req.getConfig());
            return CreateContainerResponse.newBuilder()
                    .setContainerId(containers.create(req.getPodSandboxId(), req.getConfig()))
                    .build();
        });
    }

    @Override
    public void startContainer(StartContainerRequest req, StreamObserver<StartContainerResponse> out) {
        rpc.unary("StartContainer", Level.INFO, req.getContainerId(), out, () -> {
            containers.start(requireId(req.getContainerId(), "container_id"));
            return StartContainerResponse.getDefaultInstance();
        });
    }

    @Override
    public void stopContainer(StopContainerRequest req, StreamObserver<StopContainerResponse> out) {
        rpc.unary("StopContainer", Level.INFO, req.getContainerId(), out, () -> {
            io.grpc.Context call = io.grpc.Context.current();
            containers.stop(requireId(req.getContainerId(), "container_id"), req.getTimeout(), call::isCancelled);
            streaming.endSessions(req.getContainerId());
            return StopContainerResponse.getDefaultInstance();
        });
    }

    @Override
    public void removeContainer(RemoveContainerRequest req, StreamObserver<RemoveContainerResponse> out) {
        rpc.unary("RemoveContainer", Level.INFO, req.getContainerId(), out, () -> {
            containers.remove(requireId(req.getContainerId(), "container_id"));
            streaming.endSessions(req.getContainerId());
            return RemoveContainerResponse.getDefaultInstance();
        });
    }

    @Override
    public void containerStatus(ContainerStatusRequest req, StreamObserver<ContainerStatusResponse> out) {
        rpc.unary("ContainerStatus", Level.DEBUG, req.getContainerId(), out, () -> {
            String id = requireId(req.getContainerId(), "container_id");
            var b = ContainerStatusResponse.newBuilder().setStatus(containers.status(id));
            if (req.getVerbose()) b.putAllInfo(containers.verboseInfo(id));
            return b.build();
        });
    }

    @Override
    public void listContainers(ListContainersRequest req, StreamObserver<ListContainersResponse> out) {
        rpc.unary(
                "ListContainers",
                Level.DEBUG,
                "",
                out,
                () -> ListContainersResponse.newBuilder()
                        .addAllContainers(containers.list(req.getFilter()))
                        .build());
    }

    @Override
    public void streamContainers(StreamContainersRequest req, StreamObserver<StreamContainersResponse> out) {
        rpc.serverStream("StreamContainers", Level.DEBUG, out, send -> {
            send.accept(StreamContainersResponse.newBuilder()
                    .addAllContainers(containers.list(req.getFilter()))
                    .build());
        });
    }

    @Override
    public void updateContainerResources(
            UpdateContainerResourcesRequest req, StreamObserver<UpdateContainerResourcesResponse> out) {
        rpc.unary("UpdateContainerResources", Level.INFO, req.getContainerId(), out, () -> {
            containers.updateResources(requireId(req.getContainerId(), "container_id"), req.getLinux());
            return UpdateContainerResourcesResponse.getDefaultInstance();
        });
    }

    @Override
    public void reopenContainerLog(ReopenContainerLogRequest req, StreamObserver<ReopenContainerLogResponse> out) {
        rpc.unary("ReopenContainerLog", Level.INFO, req.getContainerId(), out, () -> {
            containers.reopenLog(requireId(req.getContainerId(), "container_id"));
            return ReopenContainerLogResponse.getDefaultInstance();
        });
    }

    @Override
    public void execSync(ExecSyncRequest req, StreamObserver<ExecSyncResponse> out) {
        // DEBUG: kubelet's exec probes call this every few seconds per container.
        rpc.unary("ExecSync", Level.DEBUG, req.getContainerId(), out, () -> {
            requireId(req.getContainerId(), "container_id");
            requireCommand(req.getCmdList(), "cmd");
            var r = containers.execSync(req.getContainerId(), req.getCmdList(), req.getTimeout());
            return ExecSyncResponse.newBuilder()
                    .setStdout(r.stdout())
                    .setStderr(r.stderr())
                    .setExitCode(r.exitCode())
                    .build();
        });
    }

    @Override
    public void exec(ExecRequest req, StreamObserver<ExecResponse> out) {
        rpc.unary("Exec", Level.INFO, req.getContainerId(), out, () -> {
            requireId(req.getContainerId(), "container_id");
            requireCommand(req.getCmdList(), "cmd");
            return ExecResponse.newBuilder().setUrl(streaming.exec(req)).build();
        });
    }

    @Override
    public void attach(AttachRequest req, StreamObserver<AttachResponse> out) {
        rpc.unary("Attach", Level.INFO, req.getContainerId(), out, () -> {
            requireId(req.getContainerId(), "container_id");
            return AttachResponse.newBuilder().setUrl(streaming.attach(req)).build();
        });
    }

    @Override
    public void containerStats(ContainerStatsRequest req, StreamObserver<ContainerStatsResponse> out) {
        statsCalls.containerStats(req, out);
    }

    @Override
    public void listContainerStats(ListContainerStatsRequest req, StreamObserver<ListContainerStatsResponse> out) {
        statsCalls.listContainerStats(req, out);
    }

    @Override
    public void streamContainerStats(
            StreamContainerStatsRequest req, StreamObserver<StreamContainerStatsResponse> out) {
        statsCalls.streamContainerStats(req, out);
    }

    @Override
    public void checkpointContainer(CheckpointContainerRequest req, StreamObserver<CheckpointContainerResponse> out) {
        rpc.unary("CheckpointContainer", Level.INFO, req.getContainerId(), out, () -> {
            containers.checkpoint(requireId(req.getContainerId(), "container_id"), req.getLocation(), req.getTimeout());
            return CheckpointContainerResponse.getDefaultInstance();
        });
    }

    @Override
    public void getContainerEvents(GetEventsRequest req, StreamObserver<ContainerEventResponse> out) {
        EventStream.serve(rpc, events, out);
    }
}

package io.stevedore.server.grpc;

import static io.stevedore.server.grpc.Requests.requireCommand;
import static io.stevedore.server.grpc.Requests.requireContainerConfig;
import static io.stevedore.server.grpc.Requests.requireId;
import static io.stevedore.server.grpc.Requests.requirePodConfig;

import io.grpc.stub.StreamObserver;
import io.stevedore.cri.v1.*;
import io.stevedore.server.info.RuntimeInfoService;
import org.slf4j.event.Level;

/**
 * The CRI RuntimeService adapter: readiness, logging, validation and error mapping through
 * {@link Rpc}, then one call into a domain service. No logic lives here.
 *
 * <p>RPCs whose service does not exist yet still validate their request (so a malformed call is
 * INVALID_ARGUMENT, as it will be later) and then answer UNIMPLEMENTED naming the RPC.
 */
public final class RuntimeGrpcService extends RuntimeServiceGrpc.RuntimeServiceImplBase {
  private final Rpc rpc;
  private final RuntimeInfoService info;

  public RuntimeGrpcService(Rpc rpc, RuntimeInfoService info) {
    this.rpc = rpc;
    this.info = info;
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
  public void updateRuntimeConfig(
      UpdateRuntimeConfigRequest req, StreamObserver<UpdateRuntimeConfigResponse> out) {
    notYet("UpdateRuntimeConfig", Level.INFO, "", out);
  }

  // ---- pod sandboxes

  @Override
  public void runPodSandbox(RunPodSandboxRequest req, StreamObserver<RunPodSandboxResponse> out) {
    var name = req.getConfig().getMetadata().getName();
    notYet("RunPodSandbox", Level.INFO, name, out, () -> requirePodConfig(req.hasConfig(), req.getConfig()));
  }

  @Override
  public void stopPodSandbox(StopPodSandboxRequest req, StreamObserver<StopPodSandboxResponse> out) {
    podCall("StopPodSandbox", Level.INFO, req.getPodSandboxId(), out);
  }

  @Override
  public void removePodSandbox(
      RemovePodSandboxRequest req, StreamObserver<RemovePodSandboxResponse> out) {
    podCall("RemovePodSandbox", Level.INFO, req.getPodSandboxId(), out);
  }

  @Override
  public void podSandboxStatus(
      PodSandboxStatusRequest req, StreamObserver<PodSandboxStatusResponse> out) {
    podCall("PodSandboxStatus", Level.DEBUG, req.getPodSandboxId(), out);
  }

  @Override
  public void listPodSandbox(ListPodSandboxRequest req, StreamObserver<ListPodSandboxResponse> out) {
    notYet("ListPodSandbox", Level.DEBUG, "", out);
  }

  @Override
  public void streamPodSandboxes(
      StreamPodSandboxesRequest req, StreamObserver<StreamPodSandboxesResponse> out) {
    notYet("StreamPodSandboxes", Level.DEBUG, "", out);
  }

  @Override
  public void podSandboxStats(PodSandboxStatsRequest req, StreamObserver<PodSandboxStatsResponse> out) {
    podCall("PodSandboxStats", Level.DEBUG, req.getPodSandboxId(), out);
  }

  @Override
  public void listPodSandboxStats(
      ListPodSandboxStatsRequest req, StreamObserver<ListPodSandboxStatsResponse> out) {
    notYet("ListPodSandboxStats", Level.DEBUG, "", out);
  }

  @Override
  public void streamPodSandboxStats(
      StreamPodSandboxStatsRequest req, StreamObserver<StreamPodSandboxStatsResponse> out) {
    notYet("StreamPodSandboxStats", Level.DEBUG, "", out);
  }

  @Override
  public void listPodSandboxMetrics(
      ListPodSandboxMetricsRequest req, StreamObserver<ListPodSandboxMetricsResponse> out) {
    notYet("ListPodSandboxMetrics", Level.DEBUG, "", out);
  }

  @Override
  public void streamPodSandboxMetrics(
      StreamPodSandboxMetricsRequest req, StreamObserver<StreamPodSandboxMetricsResponse> out) {
    notYet("StreamPodSandboxMetrics", Level.DEBUG, "", out);
  }

  @Override
  public void listMetricDescriptors(
      ListMetricDescriptorsRequest req, StreamObserver<ListMetricDescriptorsResponse> out) {
    notYet("ListMetricDescriptors", Level.DEBUG, "", out);
  }

  @Override
  public void updatePodSandboxResources(
      UpdatePodSandboxResourcesRequest req, StreamObserver<UpdatePodSandboxResourcesResponse> out) {
    podCall("UpdatePodSandboxResources", Level.INFO, req.getPodSandboxId(), out);
  }

  @Override
  public void portForward(PortForwardRequest req, StreamObserver<PortForwardResponse> out) {
    podCall("PortForward", Level.INFO, req.getPodSandboxId(), out);
  }

  // ---- containers

  @Override
  public void createContainer(CreateContainerRequest req, StreamObserver<CreateContainerResponse> out) {
    notYet(
        "CreateContainer",
        Level.INFO,
        req.getPodSandboxId(),
        out,
        () -> {
          requireId(req.getPodSandboxId(), "pod_sandbox_id");
          requireContainerConfig(req.hasConfig(), req.getConfig());
        });
  }

  @Override
  public void startContainer(StartContainerRequest req, StreamObserver<StartContainerResponse> out) {
    containerCall("StartContainer", Level.INFO, req.getContainerId(), out);
  }

  @Override
  public void stopContainer(StopContainerRequest req, StreamObserver<StopContainerResponse> out) {
    containerCall("StopContainer", Level.INFO, req.getContainerId(), out);
  }

  @Override
  public void removeContainer(RemoveContainerRequest req, StreamObserver<RemoveContainerResponse> out) {
    containerCall("RemoveContainer", Level.INFO, req.getContainerId(), out);
  }

  @Override
  public void containerStatus(ContainerStatusRequest req, StreamObserver<ContainerStatusResponse> out) {
    containerCall("ContainerStatus", Level.DEBUG, req.getContainerId(), out);
  }

  @Override
  public void listContainers(ListContainersRequest req, StreamObserver<ListContainersResponse> out) {
    notYet("ListContainers", Level.DEBUG, "", out);
  }

  @Override
  public void streamContainers(
      StreamContainersRequest req, StreamObserver<StreamContainersResponse> out) {
    notYet("StreamContainers", Level.DEBUG, "", out);
  }

  @Override
  public void updateContainerResources(
      UpdateContainerResourcesRequest req, StreamObserver<UpdateContainerResourcesResponse> out) {
    containerCall("UpdateContainerResources", Level.INFO, req.getContainerId(), out);
  }

  @Override
  public void reopenContainerLog(
      ReopenContainerLogRequest req, StreamObserver<ReopenContainerLogResponse> out) {
    containerCall("ReopenContainerLog", Level.INFO, req.getContainerId(), out);
  }

  @Override
  public void execSync(ExecSyncRequest req, StreamObserver<ExecSyncResponse> out) {
    // DEBUG: kubelet's exec probes call this every few seconds per container.
    notYet(
        "ExecSync",
        Level.DEBUG,
        req.getContainerId(),
        out,
        () -> {
          requireId(req.getContainerId(), "container_id");
          requireCommand(req.getCmdList(), "cmd");
        });
  }

  @Override
  public void exec(ExecRequest req, StreamObserver<ExecResponse> out) {
    notYet(
        "Exec",
        Level.INFO,
        req.getContainerId(),
        out,
        () -> {
          requireId(req.getContainerId(), "container_id");
          requireCommand(req.getCmdList(), "cmd");
        });
  }

  @Override
  public void attach(AttachRequest req, StreamObserver<AttachResponse> out) {
    containerCall("Attach", Level.INFO, req.getContainerId(), out);
  }

  @Override
  public void containerStats(ContainerStatsRequest req, StreamObserver<ContainerStatsResponse> out) {
    containerCall("ContainerStats", Level.DEBUG, req.getContainerId(), out);
  }

  @Override
  public void listContainerStats(
      ListContainerStatsRequest req, StreamObserver<ListContainerStatsResponse> out) {
    notYet("ListContainerStats", Level.DEBUG, "", out);
  }

  @Override
  public void streamContainerStats(
      StreamContainerStatsRequest req, StreamObserver<StreamContainerStatsResponse> out) {
    notYet("StreamContainerStats", Level.DEBUG, "", out);
  }

  @Override
  public void checkpointContainer(
      CheckpointContainerRequest req, StreamObserver<CheckpointContainerResponse> out) {
    containerCall("CheckpointContainer", Level.INFO, req.getContainerId(), out);
  }

  @Override
  public void getContainerEvents(GetEventsRequest req, StreamObserver<ContainerEventResponse> out) {
    notYet("GetContainerEvents", Level.DEBUG, "", out);
  }

  // ---- helpers for calls that have no service behind them yet

  private <T> void podCall(String method, Level level, String id, StreamObserver<T> out) {
    notYet(method, level, id, out, () -> requireId(id, "pod_sandbox_id"));
  }

  private <T> void containerCall(String method, Level level, String id, StreamObserver<T> out) {
    notYet(method, level, id, out, () -> requireId(id, "container_id"));
  }

  private <T> void notYet(String method, Level level, String id, StreamObserver<T> out) {
    notYet(method, level, id, out, () -> {});
  }

  private <T> void notYet(String method, Level level, String id, StreamObserver<T> out, Runnable validate) {
    rpc.notYet(method, level, id, out, validate);
  }
}

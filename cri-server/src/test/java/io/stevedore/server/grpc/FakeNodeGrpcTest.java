package io.stevedore.server.grpc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.stevedore.cri.v1.*;
import io.stevedore.server.DaemonConfig;
import io.stevedore.server.container.ContainerStreams;
import io.stevedore.server.container.FakeContainers;
import io.stevedore.server.info.RuntimeInfoService;
import io.stevedore.server.sandbox.FakeSandboxes;
import io.stevedore.server.sandbox.SandboxService;
import io.stevedore.server.stats.CgroupStats;
import io.stevedore.server.stats.StatsService;
import io.stevedore.server.streaming.StreamingServer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runtime service over the in-process transport, with the real pod and container services over
 * fakes (recording pinner, network, pause; processes for containers; no mounts): every RPC that
 * names a pod or a container, with an unknown id, a unique prefix and an ambiguous prefix. Runs as
 * any user.
 */
class FakeNodeGrpcTest {
    @TempDir
    Path dir;

    FakeSandboxes pods;
    SandboxService sandboxes;
    FakeContainers containers;
    StreamingServer streaming;
    Server server;
    ManagedChannel channel;
    RuntimeServiceGrpc.RuntimeServiceBlockingStub rt;

    @BeforeEach
    void start() throws IOException {
        pods = new FakeSandboxes(dir.resolve("pods"));
        containers = new FakeContainers(dir.resolve("containers"), runtimes -> {
            try {
                sandboxes = pods.start(runtimes);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return sandboxes;
        });
        sandboxes.setContainers(containers.service());
        streaming = StreamingServer.start(
                DaemonConfig.defaults().stream(), new ContainerStreams(containers.service(), sandboxes));
        var rpc = new Rpc(() -> true);
        var info = new RuntimeInfoService("1.2.3", List.of("runc"), false, Optional::empty, Map::of);
        var stats = new StatsService(sandboxes, containers.service(), new CgroupStats(dir.resolve("cgroup")));
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name)
                .directExecutor()
                .addService(new RuntimeGrpcService(rpc, info, sandboxes, containers.service(), stats, streaming, null))
                .build()
                .start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        rt = RuntimeServiceGrpc.newBlockingStub(channel);
    }

    @AfterEach
    void stop() throws IOException {
        channel.shutdownNow();
        server.shutdownNow();
        streaming.close();
        containers.close();
    }

    /** A call naming one object by {@code id}. */
    record Call(String desc, Status.Code unknown, Function<String, Object> body) {
        @Override
        public String toString() {
            return desc;
        }
    }

    static final String UNKNOWN = "f".repeat(64);

    Stream<Call> podCalls() {
        return Stream.of(
                new Call(
                        "PodSandboxStatus",
                        Status.Code.NOT_FOUND,
                        id -> rt.podSandboxStatus(PodSandboxStatusRequest.newBuilder()
                                .setPodSandboxId(id)
                                .build())),
                new Call(
                        "PodSandboxStats",
                        Status.Code.NOT_FOUND,
                        id -> rt.podSandboxStats(PodSandboxStatsRequest.newBuilder()
                                .setPodSandboxId(id)
                                .build())),
                new Call(
                        "UpdatePodSandboxResources",
                        Status.Code.NOT_FOUND,
                        id -> rt.updatePodSandboxResources(
                                io.stevedore.cri.v1.UpdatePodSandboxResourcesRequest.newBuilder()
                                        .setPodSandboxId(id)
                                        .build())),
                new Call(
                        "PortForward",
                        Status.Code.NOT_FOUND,
                        id -> rt.portForward(PortForwardRequest.newBuilder()
                                .setPodSandboxId(id)
                                .addPort(80)
                                .build())),
                new Call(
                        "StopPodSandbox",
                        Status.Code.OK,
                        id -> rt.stopPodSandbox(StopPodSandboxRequest.newBuilder()
                                .setPodSandboxId(id)
                                .build())),
                new Call(
                        "RemovePodSandbox",
                        Status.Code.OK,
                        id -> rt.removePodSandbox(RemovePodSandboxRequest.newBuilder()
                                .setPodSandboxId(id)
                                .build())));
    }

    Stream<Call> containerCalls() {
        return Stream.of(
                new Call(
                        "ContainerStatus",
                        Status.Code.NOT_FOUND,
                        id -> rt.containerStatus(ContainerStatusRequest.newBuilder()
                                .setContainerId(id)
                                .build())),
                new Call(
                        "ContainerStats",
                        Status.Code.NOT_FOUND,
                        id -> rt.containerStats(ContainerStatsRequest.newBuilder()
                                .setContainerId(id)
                                .build())),
                new Call(
                        "UpdateContainerResources",
                        Status.Code.NOT_FOUND,
                        id -> rt.updateContainerResources(UpdateContainerResourcesRequest.newBuilder()
                                .setContainerId(id)
                                .build())),
                new Call(
                        "ReopenContainerLog",
                        Status.Code.NOT_FOUND,
                        id -> rt.reopenContainerLog(ReopenContainerLogRequest.newBuilder()
                                .setContainerId(id)
                                .build())),
                new Call(
                        "ExecSync",
                        Status.Code.NOT_FOUND,
                        id -> rt.execSync(ExecSyncRequest.newBuilder()
                                .setContainerId(id)
                                .addCmd("true")
                                .build())),
                new Call(
                        "Exec",
                        Status.Code.NOT_FOUND,
                        id -> rt.exec(ExecRequest.newBuilder()
                                .setContainerId(id)
                                .addCmd("sh")
                                .setStdout(true)
                                .build())),
                new Call(
                        "Attach",
                        Status.Code.NOT_FOUND,
                        id -> rt.attach(AttachRequest.newBuilder()
                                .setContainerId(id)
                                .setStdout(true)
                                .build())),
                new Call(
                        "StartContainer",
                        Status.Code.NOT_FOUND,
                        id -> rt.startContainer(StartContainerRequest.newBuilder()
                                .setContainerId(id)
                                .build())),
                new Call(
                        "StopContainer",
                        Status.Code.OK,
                        id -> rt.stopContainer(StopContainerRequest.newBuilder()
                                .setContainerId(id)
                                .build())),
                new Call(
                        "RemoveContainer",
                        Status.Code.OK,
                        id -> rt.removeContainer(RemoveContainerRequest.newBuilder()
                                .setContainerId(id)
                                .build())));
    }

    Stream<Call> allCalls() {
        return Stream.concat(podCalls(), containerCalls());
    }

    static Status.Code code(Call c, String id) {
        try {
            c.body().apply(id);
            return Status.Code.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
        }
    }

    String runPod(String name) {
        return rt.runPodSandbox(RunPodSandboxRequest.newBuilder()
                        .setConfig(FakeSandboxes.pod(name))
                        .build())
                .getPodSandboxId();
    }

    String createContainer(String podId, String name) {
        return rt.createContainer(CreateContainerRequest.newBuilder()
                        .setPodSandboxId(podId)
                        .setConfig(ContainerConfig.newBuilder()
                                .setMetadata(ContainerMetadata.newBuilder().setName(name))
                                .setImage(ImageSpec.newBuilder().setImage("busybox"))
                                .addCommand("sleep")
                                .addCommand("100000"))
                        .setSandboxConfig(FakeSandboxes.pod("p"))
                        .build())
                .getContainerId();
    }

    @Test
    void everyRpcNamingAnObject_anUnknownId_isNotFound_butStopAndRemoveAreOk() {
        var wrong = new ArrayList<String>();
        allCalls().forEach(c -> {
            var got = code(c, UNKNOWN);
            if (got != c.unknown()) wrong.add(c + ": " + got);
        });
        var create = assertThrows(StatusRuntimeException.class, () -> createContainer(UNKNOWN, "c"));
        assertEquals(Status.Code.NOT_FOUND, create.getStatus().getCode(), "CreateContainer in an unknown pod");
        assertEquals(List.of(), wrong);
    }

    @Test
    void everyRpcNamingAnObject_anAmbiguousPrefix_isInvalidArgument() {
        String pod = runPod("p");
        var podIds = new ArrayList<String>(List.of(pod));
        for (int i = 0; i < 16; i++) podIds.add(runPod("q" + i)); // 17 ids: two share a first hex digit
        var ctrIds = new ArrayList<String>();
        for (int i = 0; i < 17; i++) ctrIds.add(createContainer(pod, "c" + i));
        String podPrefix = shared(podIds);
        String ctrPrefix = shared(ctrIds);
        var wrong = new ArrayList<String>();
        podCalls().forEach(c -> {
            var got = code(c, podPrefix);
            if (got != Status.Code.INVALID_ARGUMENT) wrong.add(c + ": " + got);
        });
        containerCalls().forEach(c -> {
            var got = code(c, ctrPrefix);
            if (got != Status.Code.INVALID_ARGUMENT) wrong.add(c + ": " + got);
        });
        assertEquals(List.of(), wrong);
    }

    @Test
    void aUniquePrefix_namesTheObject_throughAWholeCycle() {
        String pod = runPod("p");
        String ctr = createContainer(pod, "c");
        String p = pod.substring(0, 12);
        String c = ctr.substring(0, 12);
        assertEquals(
                pod,
                rt.podSandboxStatus(PodSandboxStatusRequest.newBuilder()
                                .setPodSandboxId(p)
                                .build())
                        .getStatus()
                        .getId());
        rt.startContainer(StartContainerRequest.newBuilder().setContainerId(c).build());
        assertEquals(
                ContainerState.CONTAINER_RUNNING,
                rt.containerStatus(ContainerStatusRequest.newBuilder()
                                .setContainerId(c)
                                .build())
                        .getStatus()
                        .getState());
        rt.stopContainer(StopContainerRequest.newBuilder()
                .setContainerId(c)
                .setTimeout(10)
                .build());
        assertEquals(
                143,
                rt.containerStatus(ContainerStatusRequest.newBuilder()
                                .setContainerId(c)
                                .build())
                        .getStatus()
                        .getExitCode());
        rt.removeContainer(RemoveContainerRequest.newBuilder().setContainerId(c).build());
        rt.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(p).build());
        rt.removePodSandbox(
                RemovePodSandboxRequest.newBuilder().setPodSandboxId(p).build());
        assertEquals(
                0, rt.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsCount());
        assertEquals(
                0, rt.listContainers(ListContainersRequest.getDefaultInstance()).getContainersCount());
        assertEquals(java.util.Set.of(), pods.pinned(), "namespaces released");
        assertEquals(java.util.Set.of(), pods.attached(), "network torn down");
        assertEquals(0, containers.mounted(), "rootfs unmounted");
        await().atMost(Duration.ofSeconds(10)).until(() -> containers.running() == 0);
    }

    @Test
    void removingAPod_removesItsContainers() {
        String pod = runPod("p");
        String ctr = createContainer(pod, "c");
        rt.startContainer(StartContainerRequest.newBuilder().setContainerId(ctr).build());
        rt.stopPodSandbox(
                StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        rt.removePodSandbox(
                RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        var e = assertThrows(
                StatusRuntimeException.class,
                () -> rt.containerStatus(
                        ContainerStatusRequest.newBuilder().setContainerId(ctr).build()));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
        await().atMost(Duration.ofSeconds(10)).until(() -> containers.running() == 0);
    }

    /** A one-digit prefix at least two of {@code ids} start with. */
    static String shared(List<String> ids) {
        return ids.stream()
                .map(s -> s.substring(0, 1))
                .filter(p -> ids.stream().filter(s -> s.startsWith(p)).count() > 1)
                .findFirst()
                .orElseThrow();
    }
}

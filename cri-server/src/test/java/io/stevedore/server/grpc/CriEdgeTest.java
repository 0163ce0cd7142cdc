package io.stevedore.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.stevedore.cri.v1.CgroupDriver;
import io.stevedore.cri.v1.ContainerConfig;
import io.stevedore.cri.v1.ContainerMetadata;
import io.stevedore.cri.v1.ContainerStatusRequest;
import io.stevedore.cri.v1.CreateContainerRequest;
import io.stevedore.cri.v1.ExecSyncRequest;
import io.stevedore.cri.v1.ImageFsInfoRequest;
import io.stevedore.cri.v1.ImageServiceGrpc;
import io.stevedore.cri.v1.ImageSpec;
import io.stevedore.cri.v1.ImageStatusRequest;
import io.stevedore.cri.v1.KeyValue;
import io.stevedore.cri.v1.LinuxPodSandboxConfig;
import io.stevedore.cri.v1.ListImagesRequest;
import io.stevedore.cri.v1.Mount;
import io.stevedore.cri.v1.PodSandboxConfig;
import io.stevedore.cri.v1.PodSandboxMetadata;
import io.stevedore.cri.v1.PortMapping;
import io.stevedore.cri.v1.PullImageRequest;
import io.stevedore.cri.v1.RemoveContainerRequest;
import io.stevedore.cri.v1.RunPodSandboxRequest;
import io.stevedore.cri.v1.RuntimeCondition;
import io.stevedore.cri.v1.RuntimeConfigRequest;
import io.stevedore.cri.v1.RuntimeServiceGrpc;
import io.stevedore.cri.v1.StartContainerRequest;
import io.stevedore.cri.v1.StatusRequest;
import io.stevedore.cri.v1.StopPodSandboxRequest;
import io.stevedore.cri.v1.VersionRequest;
import io.stevedore.server.image.ImageFsUsage;
import io.stevedore.server.image.ImagePuller;
import io.stevedore.server.image.ImageService;
import io.stevedore.server.image.content.ContentStore;
import io.stevedore.server.image.manifest.Platform;
import io.stevedore.server.image.snapshot.SnapshotStore;
import io.stevedore.server.image.store.ImageStore;
import io.stevedore.server.info.RuntimeInfoService;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The CRI edge over the in-process transport: codes, messages and readiness. */
class CriEdgeTest {
    private final AtomicBoolean ready = new AtomicBoolean(true);
    private final AtomicReference<Optional<String>> network = new AtomicReference<>(Optional.empty());
    private Server server;
    private ManagedChannel channel;
    private RuntimeServiceGrpc.RuntimeServiceBlockingStub runtime;
    private ImageServiceGrpc.ImageServiceBlockingStub images;

    @BeforeEach
    void start(@TempDir Path state) throws IOException {
        var rpc = new Rpc(ready::get);
        var info = new RuntimeInfoService(
                "1.2.3", List.of("crun", "runc"), false, network::get, () -> Map.of("config", "{}"));
        var fs = new ImageFsUsage(
                state.resolve("snapshots"), state.resolve("containers"), InstantSource.fixed(Instant.ofEpochSecond(5)));
        var content = new ContentStore(state.resolve("content"));
        var snapshots = new SnapshotStore(state.resolve("snapshots"));
        // no registry: these tests never reach a pull
        var puller = new ImagePuller(
                null, content, snapshots, null, Platform.linuxAmd64(), 1, new ImagePuller.Limits(1L << 30, 1L << 30));
        var imageService =
                new ImageService(new ImageStore(state.resolve("images")), content, snapshots, puller, Set::of);
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name)
                .directExecutor()
                .addService(new RuntimeGrpcService(
                        rpc, info, null, null, null, null, null)) // validation fails before any service
                .addService(new ImageGrpcService(rpc, imageService, fs))
                .build()
                .start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        runtime = RuntimeServiceGrpc.newBlockingStub(channel);
        images = ImageServiceGrpc.newBlockingStub(channel);
    }

    @AfterEach
    void stop() {
        channel.shutdownNow();
        server.shutdownNow();
    }

    @Test
    void version_always_namesStevedoreAndV1() {
        var v = runtime.version(VersionRequest.getDefaultInstance());
        assertEquals("stevedore", v.getRuntimeName());
        assertEquals("1.2.3", v.getRuntimeVersion());
        assertEquals("v1", v.getRuntimeApiVersion());
        assertEquals("0.1.0", v.getVersion());
    }

    @Test
    void status_networkReady_bothConditionsTrue() {
        var s = runtime.status(StatusRequest.getDefaultInstance());
        assertEquals(
                List.of("RuntimeReady", "NetworkReady"),
                s.getStatus().getConditionsList().stream()
                        .map(RuntimeCondition::getType)
                        .toList());
        assertTrue(s.getStatus().getConditionsList().stream().allMatch(RuntimeCondition::getStatus));
        assertTrue(s.getInfoMap().isEmpty(), "info only when verbose");
    }

    @Test
    void status_noCniConfig_networkNotReadyWithReason() {
        network.set(Optional.of("cni: no network config found in /etc/cni/net.d"));
        var net = runtime.status(StatusRequest.getDefaultInstance()).getStatus().getConditions(1);
        assertEquals("NetworkReady", net.getType());
        assertFalse(net.getStatus());
        assertEquals("NetworkPluginNotReady", net.getReason());
        assertEquals("cni: no network config found in /etc/cni/net.d", net.getMessage());
    }

    @Test
    void status_verbose_hasInfoAndHandlers() {
        var s = runtime.status(StatusRequest.newBuilder().setVerbose(true).build());
        assertEquals("{}", s.getInfoMap().get("config"));
        assertEquals(
                List.of("", "crun", "runc"),
                s.getRuntimeHandlersList().stream().map(h -> h.getName()).toList());
    }

    @Test
    void runtimeConfig_cgroupfs_reportsCgroupfs() {
        assertEquals(
                CgroupDriver.CGROUPFS,
                runtime.runtimeConfig(RuntimeConfigRequest.getDefaultInstance())
                        .getLinux()
                        .getCgroupDriver());
    }

    @Test
    void imageFsInfo_emptyState_reportsBothFilesystems() {
        var info = images.imageFsInfo(ImageFsInfoRequest.getDefaultInstance());
        assertEquals(1, info.getImageFilesystemsCount());
        assertEquals(1, info.getContainerFilesystemsCount());
        assertEquals(5_000_000_000L, info.getImageFilesystems(0).getTimestamp());
    }

    @Test
    void anyCall_beforeRecovery_isUnavailable() {
        ready.set(false);
        var e = assertThrows(StatusRuntimeException.class, () -> runtime.version(VersionRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
        assertEquals("server is not initialized yet", e.getStatus().getDescription());
    }

    record Case(String desc, Function<Stubs, Object> call, Status.Code code, String message) {
        @Override
        public String toString() {
            return desc;
        }
    }

    record Stubs(
            RuntimeServiceGrpc.RuntimeServiceBlockingStub runtime, ImageServiceGrpc.ImageServiceBlockingStub images) {}

    static Stream<Case> errors() {
        var pod = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder()
                        .setName("p")
                        .setNamespace("ns")
                        .setUid("u"));
        var ctr = ContainerConfig.newBuilder()
                .setMetadata(ContainerMetadata.newBuilder().setName("c"))
                .setImage(ImageSpec.newBuilder().setImage("busybox"));
        return Stream.of(
                new Case(
                        "resize without a pod id",
                        s -> s.runtime()
                                .updatePodSandboxResources(
                                        io.stevedore.cri.v1.UpdatePodSandboxResourcesRequest.getDefaultInstance()),
                        Status.Code.INVALID_ARGUMENT,
                        "pod_sandbox_id must not be empty"),
                new Case(
                        "run without config",
                        s -> s.runtime().runPodSandbox(RunPodSandboxRequest.getDefaultInstance()),
                        Status.Code.INVALID_ARGUMENT,
                        "config must be set"),
                new Case(
                        "run without uid",
                        s -> s.runtime()
                                .runPodSandbox(RunPodSandboxRequest.newBuilder()
                                        .setConfig(pod.clone()
                                                .setMetadata(PodSandboxMetadata.newBuilder()
                                                        .setName("p")
                                                        .setNamespace("ns")))
                                        .build()),
                        Status.Code.INVALID_ARGUMENT,
                        "config.metadata.uid must not be empty"),
                new Case(
                        "pod name with NUL",
                        s -> s.runtime()
                                .runPodSandbox(RunPodSandboxRequest.newBuilder()
                                        .setConfig(pod.clone()
                                                .setMetadata(PodSandboxMetadata.newBuilder()
                                                        .setName("a\u0000b")
                                                        .setNamespace("ns")
                                                        .setUid("u")))
                                        .build()),
                        Status.Code.INVALID_ARGUMENT,
                        "config.metadata.name \"a?b\" must be at most 253 characters, without '/' or control characters"),
                new Case(
                        "megabyte namespace, echoed cut",
                        s -> s.runtime()
                                .runPodSandbox(RunPodSandboxRequest.newBuilder()
                                        .setConfig(pod.clone()
                                                .setMetadata(PodSandboxMetadata.newBuilder()
                                                        .setName("p")
                                                        .setNamespace("n".repeat(1 << 20))
                                                        .setUid("u")))
                                        .build()),
                        Status.Code.INVALID_ARGUMENT,
                        "config.metadata.namespace \"" + "n".repeat(64)
                                + "…\" must be at most 253 characters, without '/' or control characters"),
                new Case(
                        "host port 65536",
                        s -> s.runtime()
                                .runPodSandbox(RunPodSandboxRequest.newBuilder()
                                        .setConfig(pod.clone()
                                                .addPortMappings(PortMapping.newBuilder()
                                                        .setContainerPort(80)
                                                        .setHostPort(65536)))
                                        .build()),
                        Status.Code.INVALID_ARGUMENT,
                        "config.port_mappings: host_port 65536 is not in 0-65535"),
                new Case(
                        "container port 0",
                        s -> s.runtime()
                                .runPodSandbox(RunPodSandboxRequest.newBuilder()
                                        .setConfig(pod.clone()
                                                .addPortMappings(
                                                        PortMapping.newBuilder().setContainerPort(0)))
                                        .build()),
                        Status.Code.INVALID_ARGUMENT,
                        "config.port_mappings: container_port 0 is not in 1-65535"),
                new Case(
                        "protocol 99",
                        s -> s.runtime()
                                .runPodSandbox(RunPodSandboxRequest.newBuilder()
                                        .setConfig(pod.clone()
                                                .addPortMappings(PortMapping.newBuilder()
                                                        .setContainerPort(80)
                                                        .setProtocolValue(99)))
                                        .build()),
                        Status.Code.INVALID_ARGUMENT,
                        "config.port_mappings: protocol 99 is not TCP, UDP or SCTP"),
                new Case(
                        "bad host ip",
                        s -> s.runtime()
                                .runPodSandbox(RunPodSandboxRequest.newBuilder()
                                        .setConfig(pod.clone()
                                                .addPortMappings(PortMapping.newBuilder()
                                                        .setContainerPort(80)
                                                        .setHostIp("localhost")))
                                        .build()),
                        Status.Code.INVALID_ARGUMENT,
                        "config.port_mappings: host_ip \"localhost\" is not an IP address"),
                new Case(
                        "sysctl with newline",
                        s -> s.runtime()
                                .runPodSandbox(RunPodSandboxRequest.newBuilder()
                                        .setConfig(pod.clone()
                                                .setLinux(LinuxPodSandboxConfig.newBuilder()
                                                        .putSysctls("net.ipv4.ip_forward", "1\nx")))
                                        .build()),
                        Status.Code.INVALID_ARGUMENT,
                        "config.linux.sysctls: \"net.ipv4.ip_forward\" = \"1?x\" must be printable, without control characters"),
                new Case(
                        "container name with slash",
                        s -> s.runtime()
                                .createContainer(CreateContainerRequest.newBuilder()
                                        .setPodSandboxId("p")
                                        .setConfig(ctr.clone()
                                                .setMetadata(ContainerMetadata.newBuilder()
                                                        .setName("../x")))
                                        .build()),
                        Status.Code.INVALID_ARGUMENT,
                        "config.metadata.name \"../x\" must be at most 253 characters, without '/' or control characters"),
                new Case(
                        "annotations over 256 KiB",
                        s -> s.runtime()
                                .runPodSandbox(RunPodSandboxRequest.newBuilder()
                                        .setConfig(pod.clone().putAnnotations("a", "x".repeat(256 << 10)))
                                        .build()),
                        Status.Code.INVALID_ARGUMENT,
                        "config.annotations: 262145 characters of keys and values, at most 262144"),
                new Case(
                        "label key with newline",
                        s -> s.runtime()
                                .createContainer(CreateContainerRequest.newBuilder()
                                        .setPodSandboxId("p")
                                        .setConfig(ctr.clone().putLabels("a\nb", "v"))
                                        .build()),
                        Status.Code.INVALID_ARGUMENT,
                        "config.labels: key \"a?b\" must be 1-317 characters, without control characters"),
                new Case(
                        "hostname with newline",
                        s -> s.runtime()
                                .runPodSandbox(RunPodSandboxRequest.newBuilder()
                                        .setConfig(pod.clone().setHostname("h\n127.0.0.1 evil"))
                                        .build()),
                        Status.Code.INVALID_ARGUMENT,
                        "config.hostname \"h?127.0.0.1 evil\" must be at most 64 printable characters, without spaces or '/'"),
                new Case(
                        "cgroup parent climbing out",
                        s -> s.runtime()
                                .runPodSandbox(RunPodSandboxRequest.newBuilder()
                                        .setConfig(pod.clone()
                                                .setLinux(LinuxPodSandboxConfig.newBuilder()
                                                        .setCgroupParent("/kubepods/../../x")))
                                        .build()),
                        Status.Code.INVALID_ARGUMENT,
                        "config.linux.cgroup_parent \"/kubepods/../../x\" must be printable, without '..' components"),
                new Case(
                        "env key with '='",
                        s -> s.runtime()
                                .createContainer(CreateContainerRequest.newBuilder()
                                        .setPodSandboxId("p")
                                        .setConfig(ctr.clone()
                                                .addEnvs(KeyValue.newBuilder().setKey("A=B")))
                                        .build()),
                        Status.Code.INVALID_ARGUMENT,
                        "config.envs: key \"A=B\" must be non-empty, without '=' or NUL"),
                new Case(
                        "argument with NUL",
                        s -> s.runtime()
                                .createContainer(CreateContainerRequest.newBuilder()
                                        .setPodSandboxId("p")
                                        .setConfig(ctr.clone().addArgs("ok").addArgs("a\u0000b"))
                                        .build()),
                        Status.Code.INVALID_ARGUMENT,
                        "config.args[1] must be without NUL and at most 131071 characters"),
                new Case(
                        "environment past execve's limit",
                        s -> s.runtime()
                                .createContainer(CreateContainerRequest.newBuilder()
                                        .setPodSandboxId("p")
                                        .setConfig(ctr.clone()
                                                .addAllEnvs(java.util.stream.IntStream.range(0, 18)
                                                        .mapToObj(i -> KeyValue.newBuilder()
                                                                .setKey("K" + i)
                                                                .setValue(com.google.protobuf.ByteString.copyFromUtf8(
                                                                        "v".repeat(120_000)))
                                                                .build())
                                                        .toList()))
                                        .build()),
                        Status.Code.INVALID_ARGUMENT,
                        "config: command, args and envs are 2160062 characters, at most 2097152"),
                new Case(
                        "mount path with NUL",
                        s -> s.runtime()
                                .createContainer(CreateContainerRequest.newBuilder()
                                        .setPodSandboxId("p")
                                        .setConfig(ctr.clone()
                                                .addMounts(Mount.newBuilder()
                                                        .setContainerPath("/a\u0000")
                                                        .setHostPath("/tmp")))
                                        .build()),
                        Status.Code.INVALID_ARGUMENT,
                        "config.mounts.container_path \"/a?\" must be at most 4096 characters, without NUL"),
                new Case(
                        "start without id",
                        s -> s.runtime().startContainer(StartContainerRequest.getDefaultInstance()),
                        Status.Code.INVALID_ARGUMENT,
                        "container_id must not be empty"),
                new Case(
                        "status without id",
                        s -> s.runtime().containerStatus(ContainerStatusRequest.getDefaultInstance()),
                        Status.Code.INVALID_ARGUMENT,
                        "container_id must not be empty"),
                new Case(
                        "remove without id",
                        s -> s.runtime().removeContainer(RemoveContainerRequest.getDefaultInstance()),
                        Status.Code.INVALID_ARGUMENT,
                        "container_id must not be empty"),
                new Case(
                        "stop pod without id",
                        s -> s.runtime().stopPodSandbox(StopPodSandboxRequest.getDefaultInstance()),
                        Status.Code.INVALID_ARGUMENT,
                        "pod_sandbox_id must not be empty"),
                new Case(
                        "create without image",
                        s -> s.runtime()
                                .createContainer(CreateContainerRequest.newBuilder()
                                        .setPodSandboxId("p")
                                        .setConfig(ctr.clone().clearImage())
                                        .build()),
                        Status.Code.INVALID_ARGUMENT,
                        "config.image.image must not be empty"),
                new Case(
                        "create without sandbox",
                        s -> s.runtime()
                                .createContainer(CreateContainerRequest.newBuilder()
                                        .setConfig(ctr)
                                        .build()),
                        Status.Code.INVALID_ARGUMENT,
                        "pod_sandbox_id must not be empty"),
                new Case(
                        "exec sync without cmd",
                        s -> s.runtime()
                                .execSync(ExecSyncRequest.newBuilder()
                                        .setContainerId("c")
                                        .build()),
                        Status.Code.INVALID_ARGUMENT,
                        "cmd must name a command to run"),
                new Case(
                        "image status without image",
                        s -> s.images().imageStatus(ImageStatusRequest.getDefaultInstance()),
                        Status.Code.INVALID_ARGUMENT,
                        "image.image must not be empty"),
                new Case(
                        "pull without image",
                        s -> s.images().pullImage(PullImageRequest.getDefaultInstance()),
                        Status.Code.INVALID_ARGUMENT,
                        "image.image must not be empty"),
                new Case(
                        "pull bad reference",
                        s -> s.images()
                                .pullImage(PullImageRequest.newBuilder()
                                        .setImage(ImageSpec.newBuilder().setImage("Busy Box"))
                                        .build()),
                        Status.Code.INVALID_ARGUMENT,
                        null));
    }

    @ParameterizedTest
    @MethodSource("errors")
    void call_badOrUnsupported_isMappedToItsCode(Case c) {
        var e = assertThrows(StatusRuntimeException.class, () -> c.call().apply(new Stubs(runtime, images)));
        assertEquals(c.code(), e.getStatus().getCode());
        if (c.message() != null) {
            assertEquals(c.message(), e.getStatus().getDescription());
        } else {
            assertTrue(
                    e.getStatus().getDescription().startsWith("invalid image reference"),
                    e.getStatus().getDescription());
        }
    }

    @Test
    void imageStatus_absentImage_isEmptyNotAnError() {
        var res = images.imageStatus(ImageStatusRequest.newBuilder()
                .setImage(ImageSpec.newBuilder().setImage("busybox"))
                .build());
        assertFalse(res.hasImage());
    }

    @Test
    void listImages_none_isEmpty() {
        assertEquals(
                0, images.listImages(ListImagesRequest.getDefaultInstance()).getImagesCount());
    }
}

package io.stevedore.conformance;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.stevedore.conformance.registry.BusyboxImage;
import io.stevedore.conformance.registry.TarWriter;
import io.stevedore.conformance.registry.TestImages;
import io.stevedore.conformance.registry.TestRegistry;
import io.stevedore.cri.v1.ContainerConfig;
import io.stevedore.cri.v1.ContainerMetadata;
import io.stevedore.cri.v1.ContainerState;
import io.stevedore.cri.v1.ContainerStatusRequest;
import io.stevedore.cri.v1.CreateContainerRequest;
import io.stevedore.cri.v1.ImageServiceGrpc;
import io.stevedore.cri.v1.ImageSpec;
import io.stevedore.cri.v1.ImageStatusRequest;
import io.stevedore.cri.v1.LinuxContainerConfig;
import io.stevedore.cri.v1.LinuxContainerSecurityContext;
import io.stevedore.cri.v1.LinuxPodSandboxConfig;
import io.stevedore.cri.v1.LinuxSandboxSecurityContext;
import io.stevedore.cri.v1.ListContainersRequest;
import io.stevedore.cri.v1.ListPodSandboxRequest;
import io.stevedore.cri.v1.NamespaceMode;
import io.stevedore.cri.v1.NamespaceOption;
import io.stevedore.cri.v1.PodSandbox;
import io.stevedore.cri.v1.PodSandboxConfig;
import io.stevedore.cri.v1.PodSandboxMetadata;
import io.stevedore.cri.v1.PodSandboxState;
import io.stevedore.cri.v1.PullImageRequest;
import io.stevedore.cri.v1.RemoveContainerRequest;
import io.stevedore.cri.v1.RemoveImageRequest;
import io.stevedore.cri.v1.RemovePodSandboxRequest;
import io.stevedore.cri.v1.RunPodSandboxRequest;
import io.stevedore.cri.v1.RuntimeServiceGrpc;
import io.stevedore.cri.v1.StartContainerRequest;
import io.stevedore.cri.v1.StopContainerRequest;
import io.stevedore.cri.v1.StopPodSandboxRequest;
import io.stevedore.cri.v1.VersionRequest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 13, disk full: a daemon whose {@code --root} is a small tmpfs that a filler file fills up
 * mid-pull and mid-create answers RESOURCE_EXHAUSTED saying what it was writing and that there is no
 * space left, leaves nothing half-written (no ingest file, no unpack directory, no record, no mount),
 * keeps answering, and does the same pull and create once the filler is deleted. Pods use the host's
 * network, so no CNI network is made.
 */
@RequiresRoot
class DiskFullIT {
    static final String NO_SPACE = "No space left on device";
    static final int LAYER_MIB = 16;

    static Path dir;
    static Path root;
    static TestRegistry registry;
    static DaemonProcess daemon;
    static CriClient client;
    static String busybox;
    static TestImages.Pushed big;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory("sd-df-");
        root = Files.createDirectories(dir.resolve("d/root"));
        sh("mount", "-t", "tmpfs", "-o", "size=48m,mode=0711", "tmpfs", root.toString());
        registry = TestRegistry.start();
        var images = new TestImages(registry);
        busybox = BusyboxImage.push(images, "test/df-busybox", "1").reference();
        byte[] noise = new byte[LAYER_MIB << 20];
        new Random(13).nextBytes(noise);
        big = images.push(
                "test/df-big",
                "1",
                TestImages.Config.cmd("/x"),
                List.of(new TestImages.Layer(
                        List.of(TarWriter.Entry.file("noise", noise, 0644)), TestImages.Compression.GZIP)),
                false);
        Path netd = Files.createDirectories(dir.resolve("net.d")); // empty: host-network pods only
        Path config = Files.writeString(dir.resolve("stevedore.toml"), "[cni]\nconf_dir = \"" + netd + "\"\n");
        daemon = DaemonProcess.start(dir.resolve("d"), "--config", config.toString());
        client = CriClient.connect(daemon.socket());
    }

    @AfterEach
    void freeAndRemovePods() throws Exception {
        free(); // a failed test must not leave the other one a full disk
        for (PodSandbox p :
                rt().listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()) {
            rt().stopPodSandbox(StopPodSandboxRequest.newBuilder()
                    .setPodSandboxId(p.getId())
                    .build());
            rt().removePodSandbox(RemovePodSandboxRequest.newBuilder()
                    .setPodSandboxId(p.getId())
                    .build());
        }
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            if (client != null) client.close();
            if (daemon != null) assertEquals(0, daemon.terminate(), "daemon stops cleanly on SIGTERM");
            assertEquals(List.of(root.toString()), PodContainerIT.mountsUnder(dir), "no mount but the test's tmpfs");
            assertEquals(List.of(), processesOfThisTest(), "no shim or container process left");
        } finally {
            if (daemon != null && daemon.process().isAlive()) daemon.terminate();
            if (registry != null) registry.close();
            if (root != null && PodContainerIT.mountsUnder(root).contains(root.toString())) {
                sh("umount", root.toString());
            }
            LiveDaemon.deleteTree(dir);
        }
    }

    // ------------------------------------------------------------------ pull

    @Test
    void pullImage_diskFillsMidLayer_resourceExhaustedNothingPartial_thenTheSamePullSucceeds() throws Exception {
        var spec = ImageSpec.newBuilder().setImage(big.reference()).build();
        var pull = PullImageRequest.newBuilder().setImage(spec).build();
        List<String> recordsBefore = list(root.resolve("images"));
        List<String> snapshotsBefore = list(root.resolve("snapshots"));
        // given room for the manifest and config, not for the layer
        fill(4 << 20);

        // when
        var e = assertThrows(StatusRuntimeException.class, () -> images().pullImage(pull));

        // then
        System.out.println("DiskFullIT: PullImage on a disk that fills answers " + e.getStatus());
        String d = e.getStatus().getDescription();
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), String.valueOf(d));
        assertTrue(d.startsWith("pull " + big.reference() + ": unpack layer sha256:"), d);
        assertTrue(d.endsWith(NO_SPACE), d);
        assertFalse(
                Files.exists(root.resolve("content/blobs/sha256/" + hex(big.configDigest()))),
                "the pull got as far as the layer, and took back the config it had stored");
        assertFalse(images().imageStatus(status(spec)).hasImage(), "no image half-visible");
        assertEquals(recordsBefore, list(root.resolve("images")), "no image record, nor a temp file of one");
        assertEquals(List.of(), list(root.resolve("content/ingest")), "no download left");
        assertEquals(snapshotsBefore, list(root.resolve("snapshots")), "no unpack directory left");
        assertVersionAnswers();

        // when the space is freed, the same pull succeeds
        free();
        assertEquals(big.configDigest(), images().pullImage(pull).getImageRef());
        assertTrue(images().imageStatus(status(spec)).hasImage());
        images().removeImage(RemoveImageRequest.newBuilder().setImage(spec).build());
    }

    // ------------------------------------------------------------------ create

    @Test
    void createContainer_diskFull_resourceExhaustedNothingLeft_thenTheSameCreateRuns() throws Exception {
        images().pullImage(PullImageRequest.newBuilder()
                .setImage(ImageSpec.newBuilder().setImage(busybox))
                .build());
        var pod = runPod("df", NamespaceMode.CONTAINER);
        var shared = runPod("df-shared", NamespaceMode.POD); // its pause starts with its first container
        Path podRecord = root.resolve("sandboxes.meta/" + pod.id() + ".json");
        Path sharedRecord = root.resolve("sandboxes.meta/" + shared.id() + ".json");
        byte[] podRecordBefore = Files.readAllBytes(podRecord);
        byte[] sharedRecordBefore = Files.readAllBytes(sharedRecord);
        // given a full disk
        fill(0);

        // when a pod and containers are made
        var podError = assertThrows(StatusRuntimeException.class, () -> runPod("df-third", NamespaceMode.CONTAINER));
        var e = assertThrows(StatusRuntimeException.class, () -> create(pod, NamespaceMode.CONTAINER));
        var sharedError = assertThrows(StatusRuntimeException.class, () -> create(shared, NamespaceMode.POD));

        // then each is refused for want of space, naming what it was writing
        System.out.println("DiskFullIT: RunPodSandbox on a full disk answers " + podError.getStatus());
        System.out.println("DiskFullIT: CreateContainer on a full disk answers " + e.getStatus());
        System.out.println(
                "DiskFullIT: CreateContainer (shared PID) on a full disk answers " + sharedError.getStatus());
        String pd = podError.getStatus().getDescription();
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, podError.getStatus().getCode(), String.valueOf(pd));
        assertTrue(pd.startsWith("run pod sandbox \"df-third\": write ") && pd.endsWith(NO_SPACE), pd);
        String d = e.getStatus().getDescription();
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), String.valueOf(d));
        assertTrue(d.startsWith("create container \"c\": write " + root.resolve("containers.meta")), d);
        assertTrue(d.endsWith(NO_SPACE), d);
        String sd = sharedError.getStatus().getDescription();
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, sharedError.getStatus().getCode(), String.valueOf(sd));
        assertTrue(sd.startsWith("create container \"c\": write ") && sd.endsWith(NO_SPACE), sd);
        // and nothing of them is left, while the pods there were are untouched
        var pods =
                rt().listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList();
        assertEquals(
                Stream.of(pod.id(), shared.id()).sorted().toList(),
                pods.stream().map(PodSandbox::getId).sorted().toList());
        pods.forEach(p -> assertEquals(PodSandboxState.SANDBOX_READY, p.getState(), p.getId()));
        assertArrayEquals(podRecordBefore, Files.readAllBytes(podRecord), "the pod's record is intact");
        assertArrayEquals(sharedRecordBefore, Files.readAllBytes(sharedRecord), "the pod's record is intact");
        assertEquals(
                Stream.of(pod.id(), shared.id()).map(i -> i + ".json").sorted().toList(),
                list(root.resolve("sandboxes.meta")),
                "no temp file");
        assertEquals(
                0,
                rt().listContainers(ListContainersRequest.getDefaultInstance()).getContainersCount());
        assertEquals(List.of(), list(root.resolve("containers.meta")), "no container record, nor a temp file");
        assertEquals(List.of(), list(root.resolve("containers")), "no writable layer left");
        assertEquals(List.of(), list(dir.resolve("d/run/containers")), "no bundle left");
        assertEquals(
                List.of(root.toString()),
                PodContainerIT.mountsUnder(dir.resolve("d")).stream()
                        .filter(m -> !m.contains("/ns/") && !m.endsWith("/shm"))
                        .toList(),
                "no rootfs mount left");
        assertVersionAnswers();

        // when the space is freed, the same create succeeds and the container runs
        free();
        String id = create(pod, NamespaceMode.CONTAINER);
        rt().startContainer(
                        StartContainerRequest.newBuilder().setContainerId(id).build());
        await("container " + id + " runs")
                .atMost(Duration.ofSeconds(30))
                .until(() -> state(id) == ContainerState.CONTAINER_RUNNING);
        rt().stopContainer(StopContainerRequest.newBuilder()
                .setContainerId(id)
                .setTimeout(0)
                .build());
        rt().removeContainer(
                        RemoveContainerRequest.newBuilder().setContainerId(id).build());
    }

    // ------------------------------------------------------------------ helpers

    /** Fills the tmpfs with a filler file until {@code leave} bytes are free (0: until ENOSPC). */
    static void fill(long leave) throws IOException {
        Path filler = root.resolve("filler");
        long want = Files.getFileStore(root).getUsableSpace() - leave;
        var buf = ByteBuffer.allocate(1 << 20);
        try (var ch = FileChannel.open(filler, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long written = 0; leave == 0 || written < want; ) {
                buf.clear().limit((int) Math.min(buf.capacity(), leave == 0 ? buf.capacity() : want - written));
                try {
                    written += ch.write(buf);
                } catch (IOException e) {
                    if (leave == 0 && NO_SPACE.equals(e.getMessage())) break;
                    throw e;
                }
            }
        }
        long usable = Files.getFileStore(root).getUsableSpace();
        assertTrue(usable <= leave, "filled: " + usable + " bytes free, " + leave + " wanted");
    }

    static void free() throws IOException {
        Files.deleteIfExists(root.resolve("filler"));
    }

    static PodContainerIT.Pod runPod(String name, NamespaceMode pid) {
        var hostNetwork =
                NamespaceOption.newBuilder().setNetwork(NamespaceMode.NODE).setPid(pid);
        var cfg = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder()
                        .setName(name)
                        .setNamespace("df")
                        .setUid(UUID.randomUUID().toString()))
                .setLogDirectory(
                        dir.resolve("logs/" + name + "-" + UUID.randomUUID()).toString())
                .setLinux(LinuxPodSandboxConfig.newBuilder()
                        .setSecurityContext(
                                LinuxSandboxSecurityContext.newBuilder().setNamespaceOptions(hostNetwork)))
                .build();
        return new PodContainerIT.Pod(
                rt().runPodSandbox(
                                RunPodSandboxRequest.newBuilder().setConfig(cfg).build())
                        .getPodSandboxId(),
                cfg);
    }

    static String create(PodContainerIT.Pod pod, NamespaceMode pid) {
        return rt().createContainer(CreateContainerRequest.newBuilder()
                        .setPodSandboxId(pod.id())
                        .setConfig(ContainerConfig.newBuilder()
                                .setMetadata(ContainerMetadata.newBuilder().setName("c"))
                                .setImage(ImageSpec.newBuilder().setImage(busybox))
                                .addAllCommand(List.of("sleep", "3000"))
                                .setLogPath("c.log")
                                .setLinux(LinuxContainerConfig.newBuilder()
                                        .setSecurityContext(LinuxContainerSecurityContext.newBuilder()
                                                .setNamespaceOptions(NamespaceOption.newBuilder()
                                                        .setNetwork(NamespaceMode.NODE)
                                                        .setPid(pid)))))
                        .setSandboxConfig(pod.config())
                        .build())
                .getContainerId();
    }

    static ContainerState state(String id) {
        return rt().containerStatus(
                        ContainerStatusRequest.newBuilder().setContainerId(id).build())
                .getStatus()
                .getState();
    }

    static ImageStatusRequest status(ImageSpec spec) {
        return ImageStatusRequest.newBuilder().setImage(spec).build();
    }

    static void assertVersionAnswers() {
        assertEquals(
                "stevedore",
                client.runtime()
                        .withDeadlineAfter(2, TimeUnit.SECONDS)
                        .version(VersionRequest.getDefaultInstance())
                        .getRuntimeName());
    }

    static RuntimeServiceGrpc.RuntimeServiceBlockingStub rt() {
        return client.runtime().withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    static ImageServiceGrpc.ImageServiceBlockingStub images() {
        return client.images().withDeadlineAfter(120, TimeUnit.SECONDS);
    }

    static List<String> list(Path d) throws IOException {
        if (!Files.isDirectory(d)) return List.of();
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    static String hex(String digest) {
        return digest.substring("sha256:".length());
    }

    static List<String> processesOfThisTest() {
        return Host.processesNaming(dir);
    }

    static void sh(String... cmd) throws Exception {
        var p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", cmd) + ": " + out);
    }
}

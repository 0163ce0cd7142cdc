package io.stevedore.conformance;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.stevedore.conformance.registry.BusyboxImage;
import io.stevedore.conformance.registry.TarWriter.Entry;
import io.stevedore.conformance.registry.TestImages;
import io.stevedore.conformance.registry.TestRegistry;
import io.stevedore.cri.v1.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 14 against the real daemon, runc and kernel, in host-network pods: image volumes (KEP-4639)
 * readable in the container, read-only, kept when their image is removed, and refused for a
 * missing image or a sub-path outside the image; a debug container in its target's PID namespace
 * ({@code kubectl debug --target}); an AppArmor profile this host cannot apply refused by name.
 */
@RequiresRoot
class ImageVolumeIT {
    static Path dir;
    static TestRegistry registry;
    static DaemonProcess daemon;
    static CriClient client;
    static String busybox;
    static String data;
    static String single;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory("sd-imgvol-");
        registry = TestRegistry.start();
        var images = new TestImages(registry);
        busybox = BusyboxImage.push(images, "test/busybox", "1").reference();
        // Two layers: mounted as a read-only overlay. The second hides nothing, adds a file and links.
        data = images.push(
                        "test/data",
                        "1",
                        TestImages.Config.cmd("/none"),
                        List.of(
                                TestImages.Layer.of(
                                        Entry.dir("data", 0755),
                                        Entry.file("data/hello.txt", "hello from an image volume\n", 0644)),
                                TestImages.Layer.of(
                                        Entry.file("data/second.txt", "from the upper layer\n", 0644),
                                        Entry.symlink("inside", "data"),
                                        Entry.symlink("outside", "/etc"))),
                        false)
                .reference();
        // One layer: mounted as a read-only bind.
        single = images.push(
                        "test/single",
                        "1",
                        TestImages.Config.cmd("/none"),
                        List.of(Entry.file("only.txt", "a single layer\n", 0644)))
                .reference();
        Path cni = Files.createDirectories(dir.resolve("net.d")); // empty: host-network pods only
        Path cfg = dir.resolve("stevedore.toml");
        Files.writeString(cfg, "[cni]\nconf_dir = \"" + cni + "\"\n");
        daemon = DaemonProcess.start(dir.resolve("d"), "--config", cfg.toString());
        client = CriClient.connect(daemon.socket());
        for (String ref : List.of(busybox, data, single)) {
            client.images()
                    .pullImage(PullImageRequest.newBuilder()
                            .setImage(ImageSpec.newBuilder().setImage(ref))
                            .build());
        }
    }

    @AfterEach
    void removeAllPods() {
        for (var p :
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
            if (daemon != null) assertEquals(0, daemon.terminate(), daemon::stderrText);
            assertEquals(List.of(), PodContainerIT.mountsUnder(dir), "no mount left behind");
            await("no shim outlives its pod")
                    .atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertEquals(List.of(), Host.processesNaming(dir)));
        } finally {
            if (daemon != null) daemon.close(); // a failed check above must not leave it running
            if (registry != null) registry.close();
            LiveDaemon.deleteTree(dir);
        }
    }

    // ------------------------------------------------------------------ image volumes

    @Test
    void imageVolumes_areReadableReadOnly_andSurviveTheirImagesRemoval() throws Exception {
        var pod = runPod("vol");
        String id = create(
                pod,
                "reader",
                List.of("sleep", "100000"),
                b -> b.addMounts(volume("/vol", data, ""))
                        .addMounts(volume("/sub", data, "inside"))
                        .addMounts(volume("/one", single, ""))
                        .addMounts(volume("/file", data, "data/second.txt")));
        start(id);

        assertEquals("hello from an image volume\n", ok(id, "cat", "/vol/data/hello.txt"));
        assertEquals("from the upper layer\n", ok(id, "cat", "/sub/second.txt"));
        assertEquals("a single layer\n", ok(id, "cat", "/one/only.txt"));
        assertEquals("from the upper layer\n", ok(id, "cat", "/file"));
        for (String target : List.of("/vol/new", "/one/new", "/sub/hello.txt")) {
            var w = exec(id, "sh", "-c", "echo x > " + target);
            assertNotEquals(0, w.getExitCode(), target + " is writable");
            assertTrue(
                    w.getStderr().toStringUtf8().contains("Read-only"),
                    w.getStderr().toStringUtf8());
        }
        Path bundle = daemon.socket().getParent().resolve("containers").resolve(id);
        assertEquals(
                4,
                PodContainerIT.mountsUnder(bundle).stream()
                        .filter(m -> m.contains("/image-volumes/"))
                        .count(),
                "one mount per image volume, under the bundle");

        // The volume's image goes while the container runs: its layers must not (image GC).
        client.images()
                .removeImage(RemoveImageRequest.newBuilder()
                        .setImage(ImageSpec.newBuilder().setImage(data))
                        .build());
        assertEquals("hello from an image volume\n", ok(id, "cat", "/vol/data/hello.txt"));

        rt().removeContainer(
                        RemoveContainerRequest.newBuilder().setContainerId(id).build());
        assertEquals(List.of(), PodContainerIT.mountsUnder(bundle), "removal unmounts the volumes");
        client.images()
                .pullImage(PullImageRequest.newBuilder()
                        .setImage(ImageSpec.newBuilder().setImage(data))
                        .build());
    }

    @Test
    void imageVolume_missingImage_isNotFound() {
        var pod = runPod("missing");
        var e = assertThrows(
                StatusRuntimeException.class,
                () -> create(pod, "c", List.of("true"), b -> b.addMounts(volume("/vol", "127.0.0.1:1/none:1", ""))));
        assertEquals(
                Status.Code.NOT_FOUND, e.getStatus().getCode(), e.getStatus().toString());
        assertNoContainers();
    }

    @Test
    void imageVolume_subPathOutsideTheImage_isInvalidArgument() throws Exception {
        var pod = runPod("bad");
        for (String sub : List.of("../etc", "/etc", "outside", "outside/passwd", "no/such")) {
            var e = assertThrows(
                    StatusRuntimeException.class,
                    () -> create(pod, "c", List.of("true"), b -> b.addMounts(volume("/vol", data, sub))));
            assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), sub + ": " + e.getStatus());
            assertTrue(
                    e.getStatus().getDescription().contains("image_sub_path"),
                    e.getStatus().getDescription());
        }
        assertNoContainers();
        assertEquals(
                List.of(),
                PodContainerIT.mountsUnder(daemon.socket().getParent()).stream()
                        .filter(m -> m.contains("/image-volumes/") || m.endsWith("/rootfs"))
                        .toList(),
                "a refused create leaves no mount");
    }

    // ------------------------------------------------------------------ debug target

    @Test
    void debugContainer_withPidTarget_seesTheTargetsProcesses() {
        var pod = runPod("debug");
        // A PID namespace of its own, as containers of a pod that shares none have: the case for --target.
        String target = create(
                pod,
                "app",
                List.of("sleep", "424242"),
                b -> b.getLinuxBuilder()
                        .getSecurityContextBuilder()
                        .setNamespaceOptions(NamespaceOption.newBuilder().setPid(NamespaceMode.CONTAINER)));
        start(target);
        String debug = create(
                pod,
                "debugger",
                List.of("sleep", "100000"),
                b -> b.getLinuxBuilder()
                        .getSecurityContextBuilder()
                        .setNamespaceOptions(NamespaceOption.newBuilder()
                                .setPid(NamespaceMode.TARGET)
                                .setTargetId(target)));
        start(debug);

        String ps = ok(debug, "ps");
        assertTrue(ps.contains("sleep 424242"), ps);
        assertEquals(
                "sleep 424242 ", ok(debug, "cat", "/proc/1/cmdline").replace('\0', ' '), "pid 1 is the target's init");
        String own = ok(target, "ps");
        assertTrue(own.contains("sleep 100000"), "the target sees the debugger too:\n" + own);
    }

    @Test
    void debugContainer_unknownOrStoppedTarget_isRefused() {
        var pod = runPod("nodebug");
        var e = assertThrows(
                StatusRuntimeException.class, () -> create(pod, "d", List.of("true"), b -> target(b, "nope")));
        assertEquals(
                Status.Code.NOT_FOUND, e.getStatus().getCode(), e.getStatus().toString());
        String created = create(pod, "app", List.of("sleep", "1"), b -> {});
        var f = assertThrows(
                StatusRuntimeException.class, () -> create(pod, "d", List.of("true"), b -> target(b, created)));
        assertEquals(
                Status.Code.FAILED_PRECONDITION,
                f.getStatus().getCode(),
                f.getStatus().toString());
    }

    // ------------------------------------------------------------------ AppArmor

    @Test
    void apparmorProfile_onAHostWithoutAppArmor_isRefusedByName() throws Exception {
        Path enabled = Path.of("/sys/module/apparmor/parameters/enabled");
        boolean hostHasAppArmor =
                Files.exists(enabled) && Files.readString(enabled).startsWith("Y");
        assertFalse(hostHasAppArmor, "this test is about a host without AppArmor");
        var pod = runPod("aa");
        var e = assertThrows(
                StatusRuntimeException.class,
                () -> create(
                        pod,
                        "c",
                        List.of("true"),
                        b -> b.getLinuxBuilder()
                                .getSecurityContextBuilder()
                                .setApparmor(SecurityProfile.newBuilder()
                                        .setProfileType(SecurityProfile.ProfileType.Localhost)
                                        .setLocalhostRef("k8s-deny-write"))));
        assertEquals(
                Status.Code.FAILED_PRECONDITION,
                e.getStatus().getCode(),
                e.getStatus().toString());
        String msg = e.getStatus().getDescription();
        assertTrue(
                msg.contains("linux.security_context.apparmor") && msg.contains("AppArmor is not enabled on this host"),
                msg);
        assertNoContainers();
        // runtime/default is what the kubelet sends everywhere: accepted here as unconfined.
        create(
                pod,
                "default",
                List.of("true"),
                b -> b.getLinuxBuilder()
                        .getSecurityContextBuilder()
                        .setApparmor(SecurityProfile.newBuilder()
                                .setProfileType(SecurityProfile.ProfileType.RuntimeDefault)));
    }

    // ------------------------------------------------------------------ helpers

    record Pod(String id, PodSandboxConfig config) {}

    static RuntimeServiceGrpc.RuntimeServiceBlockingStub rt() {
        return client.runtime().withDeadlineAfter(60, java.util.concurrent.TimeUnit.SECONDS);
    }

    static Mount volume(String containerPath, String image, String subPath) {
        return Mount.newBuilder()
                .setContainerPath(containerPath)
                .setReadonly(true)
                .setImage(ImageSpec.newBuilder().setImage(image))
                .setImageSubPath(subPath)
                .build();
    }

    static void target(ContainerConfig.Builder b, String id) {
        b.getLinuxBuilder()
                .getSecurityContextBuilder()
                .setNamespaceOptions(NamespaceOption.newBuilder()
                        .setPid(NamespaceMode.TARGET)
                        .setTargetId(id));
    }

    static Pod runPod(String name) {
        var cfg = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder()
                        .setName(name)
                        .setNamespace("it")
                        .setUid(UUID.randomUUID().toString()))
                .setLogDirectory(dir.resolve("logs").resolve(name).toString())
                .setLinux(LinuxPodSandboxConfig.newBuilder()
                        .setSecurityContext(LinuxSandboxSecurityContext.newBuilder()
                                .setNamespaceOptions(
                                        NamespaceOption.newBuilder().setNetwork(NamespaceMode.NODE))))
                .build();
        return new Pod(
                rt().runPodSandbox(
                                RunPodSandboxRequest.newBuilder().setConfig(cfg).build())
                        .getPodSandboxId(),
                cfg);
    }

    static String create(Pod pod, String name, List<String> cmd, Consumer<ContainerConfig.Builder> edit) {
        var b = ContainerConfig.newBuilder()
                .setMetadata(ContainerMetadata.newBuilder().setName(name))
                .setImage(ImageSpec.newBuilder().setImage(busybox))
                .addAllCommand(cmd)
                .setLogPath(name + ".log");
        edit.accept(b);
        return rt().createContainer(CreateContainerRequest.newBuilder()
                        .setPodSandboxId(pod.id())
                        .setConfig(b)
                        .setSandboxConfig(pod.config())
                        .build())
                .getContainerId();
    }

    static void start(String id) {
        rt().startContainer(
                        StartContainerRequest.newBuilder().setContainerId(id).build());
    }

    static ExecSyncResponse exec(String id, String... cmd) {
        return rt().execSync(ExecSyncRequest.newBuilder()
                .setContainerId(id)
                .addAllCmd(List.of(cmd))
                .setTimeout(30)
                .build());
    }

    /** {@code cmd}'s stdout, which must exit 0. */
    static String ok(String id, String... cmd) {
        var r = exec(id, cmd);
        assertEquals(0, r.getExitCode(), List.of(cmd) + ": " + r.getStderr().toString(StandardCharsets.UTF_8));
        return r.getStdout().toString(StandardCharsets.UTF_8);
    }

    static void assertNoContainers() {
        assertEquals(
                0,
                rt().listContainers(ListContainersRequest.getDefaultInstance()).getContainersCount());
    }
}

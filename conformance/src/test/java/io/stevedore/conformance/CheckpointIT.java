package io.stevedore.conformance;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.stevedore.conformance.registry.BusyboxImage;
import io.stevedore.conformance.registry.TestImages;
import io.stevedore.conformance.registry.TestRegistry;
import io.stevedore.cri.v1.*;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * CheckpointContainer against the real daemon, runc and CRIU: a counter in a host-network pod is
 * checkpointed, keeps counting, the archive has the kubelet's layout, and the archive restores by
 * hand ({@code runc restore} from its {@code checkpoint/} and {@code spec.dump}, over the image
 * plus its {@code rootfs-diff.tar}) into a counter that continues from the checkpointed value.
 *
 * <p>CRIU: the first of {@code -Dstevedore.it.criu}, {@code criu} on PATH and {@code
 * /opt/criu-test/bin/criu} that passes {@code criu check} (Debian 12's 3.17 fails it on 6.x
 * kernels; README says which CRIU works and how to unpack it). With none, the test is skipped,
 * loudly. The pod has host networking and a PID namespace per container, so the restored tree gets
 * a fresh PID namespace beside the still-running original.
 */
@RequiresRoot
class CheckpointIT {
    static final String COUNTER = "i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 0.1; done";

    static Path dir;
    static TestRegistry registry;
    static DaemonProcess daemon;
    static CriClient client;
    static String image;
    static Path criu;
    static List<String> refused = new ArrayList<>();

    @BeforeAll
    static void setUp() throws Exception {
        criu = workingCriu().orElse(null);
        if (criu == null) {
            String why = "SKIPPED: no CRIU on this machine passes `criu check` (" + String.join("; ", refused)
                    + "). Unpack a newer one (README, CheckpointContainer) or pass -Dstevedore.it.criu=/path/to/criu";
            System.err.println("\n!!!!!!!! CheckpointIT " + why + "\n");
            Assumptions.abort(why);
        }
        System.err.println("CheckpointIT: using CRIU " + criu + (refused.isEmpty() ? "" : "; refused: " + refused));
        dir = Files.createTempDirectory("sd-checkpoint-");
        registry = TestRegistry.start();
        image = BusyboxImage.push(new TestImages(registry), "test/busybox", "1").reference();
        Files.createDirectories(dir.resolve("net.d"));
        Files.writeString(dir.resolve("stevedore.toml"), """
                [runtime]
                criu_path = "%s"
                [cni]
                conf_dir = "%s"
                """.formatted(criu, dir.resolve("net.d")));
        daemon = DaemonProcess.start(
                dir.resolve("d"), "--config", dir.resolve("stevedore.toml").toString());
        client = CriClient.connect(daemon.socket());
        client.images()
                .pullImage(PullImageRequest.newBuilder()
                        .setImage(ImageSpec.newBuilder().setImage(image))
                        .build());
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (dir == null) return;
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
            if (daemon != null) assertEquals(0, daemon.terminate());
            assertEquals(List.of(), PodContainerIT.mountsUnder(dir), "no mount outlives the test");
        } finally {
            if (registry != null) registry.close();
            LiveDaemon.deleteTree(dir);
        }
    }

    @Test
    void checkpoint_runningCounter_keepsRunning_andItsArchiveRestoresByHand() throws Exception {
        var pod = runPod("counter");
        String id = create(pod, "counter", List.of("sh", "-c", COUNTER));
        rt().startContainer(
                        StartContainerRequest.newBuilder().setContainerId(id).build());
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> count(id) >= 3);
        Path location = dir.resolve("checkpoint-counter.tar");

        rt().checkpointContainer(CheckpointContainerRequest.newBuilder()
                .setContainerId(id)
                .setLocation(location.toString())
                .setTimeout(120)
                .build());

        // the container keeps running, and counting
        assertEquals(ContainerState.CONTAINER_RUNNING, status(id).getState());
        long after = count(id);
        await().atMost(Duration.ofSeconds(30)).until(() -> count(id) > after + 2);
        assertEquals(
                "rw-------",
                java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(location)));

        // the archive: the kubelet's layout
        Path unpacked = Files.createDirectories(dir.resolve("unpacked"));
        sh("tar", "-xf", location.toString(), "-C", unpacked.toString());
        List<String> names = sh("tar", "-tf", location.toString()).lines().toList();
        for (String n : List.of(
                "config.dump", "spec.dump", "rootfs-diff.tar", "dump.log", "checkpoint/", "checkpoint/inventory.img")) {
            assertTrue(names.contains(n), n + " in " + names);
        }
        assertTrue(names.stream().anyMatch(n -> n.matches("checkpoint/pages-\\d+\\.img")), names.toString());
        var json = new ObjectMapper();
        var config = json.readTree(unpacked.resolve("config.dump").toFile());
        assertEquals(id, config.get("id").asText());
        assertEquals(image, config.get("rootfsImageName").asText());
        var spec = (ObjectNode) json.readTree(unpacked.resolve("spec.dump").toFile());
        List<String> diff = sh("tar", "-tf", unpacked.resolve("rootfs-diff.tar").toString())
                .lines()
                .toList();
        assertTrue(diff.contains("tmp/n"), diff.toString());
        long checkpointed = Long.parseLong(
                sh("tar", "-xOf", unpacked.resolve("rootfs-diff.tar").toString(), "tmp/n")
                        .strip());

        restoreByHand(spec, unpacked, checkpointed);
    }

    @Test
    void checkpoint_createdContainer_isFailedPrecondition_andBadLocationInvalidArgument() {
        var pod = runPod("idle");
        String id = create(pod, "idle", List.of("sleep", "1000"));

        var created = assertCode(
                Status.Code.FAILED_PRECONDITION, id, dir.resolve("x.tar").toString());
        assertTrue(created.contains("only a running container can be checkpointed"), created);
        var relative = assertCode(Status.Code.INVALID_ARGUMENT, id, "relative.tar");
        assertTrue(relative.startsWith("location: "), relative);
        assertCode(
                Status.Code.NOT_FOUND, "no-such-container", dir.resolve("x.tar").toString());
    }

    @Test
    void checkpoint_withACriuThatFailsCheck_isFailedPreconditionQuotingIt() throws Exception {
        Path debian = Path.of("/usr/sbin/criu");
        Assumptions.assumeTrue(
                refused.stream().anyMatch(r -> r.startsWith(debian + ":")),
                "the distribution's CRIU passes criu check here: nothing to refuse");
        Path d2 = dir.resolve("d2");
        Files.createDirectories(d2);
        Files.writeString(d2.resolve("stevedore.toml"), """
                [runtime]
                criu_path = "%s"
                [cni]
                conf_dir = "%s"
                """.formatted(debian, dir.resolve("net.d")));
        var other = DaemonProcess.start(
                d2.resolve("d"), "--config", d2.resolve("stevedore.toml").toString());
        String podId = null;
        try (var c = CriClient.connect(other.socket())) {
            var stub = c.runtime().withDeadlineAfter(120, TimeUnit.SECONDS);
            c.images()
                    .pullImage(PullImageRequest.newBuilder()
                            .setImage(ImageSpec.newBuilder().setImage(image))
                            .build());
            var podConfig = podConfig("refused");
            podId = stub.runPodSandbox(RunPodSandboxRequest.newBuilder()
                            .setConfig(podConfig)
                            .build())
                    .getPodSandboxId();
            String id = stub.createContainer(CreateContainerRequest.newBuilder()
                            .setPodSandboxId(podId)
                            .setConfig(ContainerConfig.newBuilder()
                                    .setMetadata(ContainerMetadata.newBuilder().setName("idle"))
                                    .setImage(ImageSpec.newBuilder().setImage(image))
                                    .addAllCommand(List.of("sleep", "1000"))
                                    .setLogPath("idle.log"))
                            .setSandboxConfig(podConfig)
                            .build())
                    .getContainerId();
            stub.startContainer(
                    StartContainerRequest.newBuilder().setContainerId(id).build());

            var e = org.junit.jupiter.api.Assertions.assertThrows(
                    StatusRuntimeException.class,
                    () -> stub.checkpointContainer(CheckpointContainerRequest.newBuilder()
                            .setContainerId(id)
                            .setLocation(d2.resolve("x.tar").toString())
                            .build()));

            assertEquals(
                    Status.Code.FAILED_PRECONDITION,
                    e.getStatus().getCode(),
                    e.getStatus().toString());
            String why = e.getStatus().getDescription();
            assertTrue(why.contains("\"" + debian + " check\" failed on this kernel"), why);
            assertTrue(why.contains("Error (criu/"), why);
            assertEquals(
                    ContainerState.CONTAINER_RUNNING,
                    stub.containerStatus(ContainerStatusRequest.newBuilder()
                                    .setContainerId(id)
                                    .build())
                            .getStatus()
                            .getState());
        } finally {
            if (podId != null) {
                try (var c = CriClient.connect(other.socket())) {
                    var stub = c.runtime().withDeadlineAfter(120, TimeUnit.SECONDS);
                    stub.stopPodSandbox(StopPodSandboxRequest.newBuilder()
                            .setPodSandboxId(podId)
                            .build());
                    stub.removePodSandbox(RemovePodSandboxRequest.newBuilder()
                            .setPodSandboxId(podId)
                            .build());
                }
            }
            assertEquals(0, other.terminate());
        }
    }

    /**
     * {@code runc restore} of the archive into a copy of the image: a bundle made of spec.dump (its
     * own cgroup, new IPC and UTS namespaces rather than the pod's pinned ones) and a root file
     * system copied from the running container's image layers, with rootfs-diff.tar applied.
     */
    private void restoreByHand(ObjectNode spec, Path unpacked, long checkpointed) throws Exception {
        Path bundle = Files.createDirectories(dir.resolve("restore/bundle"));
        Path rootfs = Files.createDirectories(bundle.resolve("rootfs"));
        Path runcRoot = dir.resolve("restore/runc");
        String rid = "sd-checkpoint-it-" + UUID.randomUUID().toString().substring(0, 8);
        String cgroup = "/sd-checkpoint-it/" + rid;
        // the image: the lower layers of the container's overlay, bottom first
        String sourceRootfs = spec.path("root").path("path").asText();
        for (String lower : lowers(sourceRootfs)) {
            sh("cp", "-a", lower + "/.", rootfs.toString());
        }
        sh("tar", "-xf", unpacked.resolve("rootfs-diff.tar").toString(), "-C", rootfs.toString());
        assertEquals(
                checkpointed,
                Long.parseLong(Files.readString(rootfs.resolve("tmp/n")).strip()));
        ((ObjectNode) spec.get("root")).put("path", rootfs.toString());
        var linux = (ObjectNode) spec.get("linux");
        linux.put("cgroupsPath", cgroup);
        for (var ns : linux.withArray("namespaces")) {
            ((ObjectNode) ns).remove("path"); // the pod's pins: CRIU restores its own copies
        }
        new ObjectMapper().writeValue(bundle.resolve("config.json").toFile(), spec);
        var env = Map.of("PATH", criu.getParent() + ":" + System.getenv("PATH"));
        try {
            runOk(
                    env,
                    "runc",
                    "--root",
                    runcRoot.toString(),
                    "restore",
                    "--detach",
                    "--image-path",
                    unpacked.resolve("checkpoint").toString(),
                    "--work-path",
                    Files.createDirectories(dir.resolve("restore/work")).toString(),
                    "--bundle",
                    bundle.toString(),
                    rid);
            List<Long> seen = new ArrayList<>();
            await("the restored counter continues from " + checkpointed)
                    .atMost(Duration.ofSeconds(30))
                    .ignoreExceptions()
                    .until(() -> {
                        seen.add(Long.parseLong(
                                Files.readString(rootfs.resolve("tmp/n")).strip()));
                        return seen.getLast() >= checkpointed + 5;
                    });
            assertTrue(
                    seen.stream().allMatch(v -> v >= checkpointed),
                    "restored from " + checkpointed + ", never restarted from 1: " + seen);
        } finally {
            sh("runc", "--root", runcRoot.toString(), "kill", rid, "KILL");
            await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> {
                String st = sh("runc", "--root", runcRoot.toString(), "state", rid);
                return st.contains("stopped") || st.contains("does not exist");
            });
            sh("runc", "--root", runcRoot.toString(), "delete", "--force", rid);
            try (var controllers = Files.list(Path.of("/sys/fs/cgroup"))) {
                for (Path c : controllers.toList()) {
                    Path mine = c.resolve("sd-checkpoint-it");
                    if (Files.isDirectory(mine, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                        try (var left = Files.list(mine)) {
                            for (Path d : left.filter(Files::isDirectory).toList()) Files.deleteIfExists(d);
                        }
                        Files.deleteIfExists(mine);
                    }
                }
            }
        }
        assertEquals("", sh("runc", "--root", runcRoot.toString(), "list", "-q").strip());
    }

    /** The overlay lowerdirs of the mount at {@code target}, bottom layer first. */
    private static List<String> lowers(String target) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            if (!f[4].equals(target)) continue;
            for (String opt : line.substring(line.indexOf(" - ")).split(",")) {
                if (opt.startsWith("lowerdir=")) {
                    List<String> l = new ArrayList<>(List.of(opt.substring(9).split(":")));
                    java.util.Collections.reverse(l);
                    return l;
                }
            }
        }
        throw new AssertionError("no overlay mounted at " + target);
    }

    private static String assertCode(Status.Code code, String id, String location) {
        var e = org.junit.jupiter.api.Assertions.assertThrows(
                StatusRuntimeException.class,
                () -> rt().checkpointContainer(CheckpointContainerRequest.newBuilder()
                        .setContainerId(id)
                        .setLocation(location)
                        .build()));
        assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
        return e.getStatus().getDescription();
    }

    // ------------------------------------------------------------------ CRIU

    /** The first CRIU candidate that passes {@code criu check}; the others' complaints in {@link #refused}. */
    static Optional<Path> workingCriu() throws Exception {
        List<Path> candidates = new ArrayList<>();
        Optional.ofNullable(System.getProperty("stevedore.it.criu"))
                .map(Path::of)
                .ifPresent(candidates::add);
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, "criu"))) {
                candidates.add(Path.of(d, "criu"));
                break;
            }
        }
        candidates.add(Path.of("/opt/criu-test/bin/criu"));
        for (Path c : candidates) {
            if (!Files.isExecutable(c)) continue;
            var p = new ProcessBuilder(c.toString(), "check")
                    .redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0) return Optional.of(c);
            refused.add(c + ": " + out.strip().replace('\n', ' '));
        }
        return Optional.empty();
    }

    // ------------------------------------------------------------------ helpers

    record Pod(String id, PodSandboxConfig config) {}

    static RuntimeServiceGrpc.RuntimeServiceBlockingStub rt() {
        return client.runtime().withDeadlineAfter(180, TimeUnit.SECONDS);
    }

    static Pod runPod(String name) {
        var cfg = podConfig(name);
        return new Pod(
                rt().runPodSandbox(
                                RunPodSandboxRequest.newBuilder().setConfig(cfg).build())
                        .getPodSandboxId(),
                cfg);
    }

    static PodSandboxConfig podConfig(String name) {
        return PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder()
                        .setName(name)
                        .setNamespace("it")
                        .setUid(UUID.randomUUID().toString()))
                .setLogDirectory(dir.resolve("logs").resolve(name).toString())
                .setLinux(LinuxPodSandboxConfig.newBuilder()
                        .setSecurityContext(LinuxSandboxSecurityContext.newBuilder()
                                .setNamespaceOptions(NamespaceOption.newBuilder()
                                        .setNetwork(NamespaceMode.NODE) // host network: no CNI
                                        .setPid(NamespaceMode.CONTAINER)))) // restorable beside the original
                .build();
    }

    static String create(Pod pod, String name, List<String> cmd) {
        return rt().createContainer(CreateContainerRequest.newBuilder()
                        .setPodSandboxId(pod.id())
                        .setConfig(ContainerConfig.newBuilder()
                                .setMetadata(ContainerMetadata.newBuilder().setName(name))
                                .setImage(ImageSpec.newBuilder().setImage(image))
                                .addAllCommand(cmd)
                                .setLogPath(name + ".log"))
                        .setSandboxConfig(pod.config())
                        .build())
                .getContainerId();
    }

    static ContainerStatus status(String id) {
        return rt().containerStatus(
                        ContainerStatusRequest.newBuilder().setContainerId(id).build())
                .getStatus();
    }

    /** The counter's value; read again when a read meets the file just truncated by the next write. */
    static long count(String id) {
        String text = "";
        for (int i = 0; i < 50 && text.isEmpty(); i++) {
            text = rt().execSync(ExecSyncRequest.newBuilder()
                            .setContainerId(id)
                            .addAllCmd(List.of("cat", "/tmp/n"))
                            .setTimeout(10)
                            .build())
                    .getStdout()
                    .toStringUtf8()
                    .strip();
        }
        return Long.parseLong(text);
    }

    static String sh(String... cmd) throws Exception {
        var p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }

    /** Runs {@code cmd} with its output in a file: a restored process keeps the runtime's stdout open. */
    static void runOk(Map<String, String> env, String... cmd) throws Exception {
        Path out = Files.createTempFile(dir, "cmd-", ".out");
        var pb = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().putAll(env);
        var p = pb.start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), String.join(" ", cmd) + " did not finish");
        String log = "";
        Path restoreLog = dir.resolve("restore/work/restore.log");
        if (p.exitValue() != 0 && Files.exists(restoreLog)) {
            log = "\nrestore.log errors:\n"
                    + String.join(
                            "\n",
                            Files.readAllLines(restoreLog).stream()
                                    .filter(l -> l.contains("Error") || l.contains("Warn"))
                                    .toList());
        }
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + Files.readString(out) + log);
    }
}

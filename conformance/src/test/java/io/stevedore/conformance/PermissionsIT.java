package io.stevedore.conformance;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.conformance.registry.BusyboxImage;
import io.stevedore.conformance.registry.TestImages;
import io.stevedore.conformance.registry.TestRegistry;
import io.stevedore.cri.v1.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What another local user can reach of a real daemon's state (issue 13): checked as uid 65534 with
 * {@code setpriv}, on a pod (host network, its own IPC and PID namespaces) whose root container
 * wrote a setuid file into its writable layer. Nothing under the roots may be listed, read or
 * reached but the socket, which only its group may connect to. The test's own directory is made
 * 0755, so every refusal comes from the daemon's modes, and a control read proves the probe can
 * succeed at all.
 */
@RequiresRoot
class PermissionsIT {
    static final int NOBODY = 65534;
    static final int NOGROUP = 65534;

    static Path dir;
    static TestRegistry registry;
    static DaemonProcess daemon;
    static CriClient client;
    static String image;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory("sd-perm-");
        // traversable like /var/lib and /run: refusals below must come from the daemon's modes
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        registry = TestRegistry.start();
        image = BusyboxImage.push(new TestImages(registry), "test/busybox", "1").reference();
        Path cni = Files.createDirectories(dir.resolve("net.d")); // empty: host-network pods only
        Path cfg = dir.resolve("stevedore.toml");
        Files.writeString(cfg, "socket_group = \"nogroup\"\n[cni]\nconf_dir = \"" + cni + "\"\n");
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
            // shims and pauses name this test's directory on their command lines
            await("no shim or pause outlives its pod")
                    .atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertEquals(List.of(), Host.processesNaming(dir)));
        } finally {
            if (daemon != null) daemon.close(); // a failed check above must not leave it running
            if (registry != null) registry.close();
            LiveDaemon.deleteTree(dir);
        }
    }

    @Test
    void containerFiles_recordsAndShm_areUnreachableByOtherUsers() throws Exception {
        Path root = daemon.root();
        Path run = daemon.socket().getParent();
        var pod = runPod("perm");
        String writer = create(
                pod, "writer", List.of("sh", "-c", "echo secret > /x && busybox chmod 4755 /x && sleep 100000"), -1);
        start(writer);
        Path upperX = root.resolve("containers").resolve(writer).resolve("upper/x");
        await("the container wrote /x").atMost(Duration.ofSeconds(30)).until(() -> Files.exists(upperX));
        await().atMost(Duration.ofSeconds(10)).until(() -> mode(upperX).equals("4755"));

        Path rootfsX = run.resolve("containers").resolve(writer).resolve("rootfs/x");
        Path config = run.resolve("containers").resolve(writer).resolve("config.json");
        Path record = root.resolve("containers.meta").resolve(writer + ".json");
        Path podRecord = root.resolve("sandboxes.meta").resolve(pod.id() + ".json");
        Path shm = run.resolve("sandboxes").resolve(pod.id()).resolve("shm");
        for (Path p : List.of(rootfsX, config, record, podRecord, shm)) {
            assertTrue(Files.exists(p), "root sees " + p); // else the refusals below prove nothing
        }

        // controls: the probe works, and the socket is reachable through run_root
        Path probe = Files.writeString(dir.resolve("probe"), "public\n");
        assertEquals(0, asNobody("test", "-r", probe.toString()).code());
        assertEquals(0, asNobody("stat", daemon.socket().toString()).code());

        // nothing is listable, readable or reachable
        for (Path d : List.of(root, run, root.resolve("containers"), run.resolve("containers"), shm)) {
            assertRefused(asNobody("ls", d.toString()), "ls " + d);
        }
        for (Path f : List.of(upperX, rootfsX, config, record, podRecord)) {
            assertRefused(asNobody("cat", f.toString()), "cat " + f);
            assertRefused(asNobody("stat", f.toString()), "stat " + f);
        }
        assertNotEquals(0, asNobody("test", "-e", rootfsX.toString()).code(), "the setuid file cannot be reached");
        assertRefused(asNobody("touch", shm.resolve("planted").toString()), "the pod's /dev/shm");
        assertFalse(Files.exists(shm.resolve("planted")));
        assertEquals(
                "700 700 711 700 700",
                modes(root, root.resolve("containers"), run, run.resolve("containers"), run.resolve("sandboxes")));
    }

    @Test
    void aNonRootContainer_stillRunsWithItsPodFilesAndShm() throws Exception {
        var pod = runPod("nonroot");
        String id = create(
                pod,
                "nobody",
                List.of(
                        "sh",
                        "-c",
                        "id -u && cat /etc/hosts /etc/resolv.conf >/dev/null && echo hi > /dev/shm/y && ls /dev/shm"),
                NOBODY);
        start(id);
        await("container exits")
                .atMost(Duration.ofSeconds(60))
                .until(() -> status(id).getState() == ContainerState.CONTAINER_EXITED);
        var st = status(id);
        String log = Files.readString(Path.of(st.getLogPath()));
        assertEquals(0, st.getExitCode(), log);
        assertTrue(log.contains(" stdout F 65534\n") && log.contains(" stdout F y\n"), log);
    }

    @Test
    void socket_is0660RootAndItsGroup_onlyMembersConnect() throws Exception {
        assertEquals(
                "660 root nogroup",
                run("stat", "-c", "%a %U %G", daemon.socket().toString()).out().strip());
        String url = "http://localhost/";
        var member = asUser(
                NOBODY,
                NOGROUP,
                "curl",
                "-s",
                "--max-time",
                "5",
                "--unix-socket",
                daemon.socket().toString(),
                url);
        var other = asUser(
                NOBODY,
                65533,
                "curl",
                "-s",
                "--max-time",
                "5",
                "--unix-socket",
                daemon.socket().toString(),
                url);
        assertNotEquals(7, member.code(), "a member of the socket group connects: " + member);
        assertEquals(7, other.code(), "anyone else cannot connect: " + other);
    }

    @Test
    void defaultGroup_isRoots_andLooseModesAreFixedAtStart() throws Exception {
        Path d = dir.resolve("d2");
        // an install made under a loose umask, or by an older release
        for (Path p : List.of(d.resolve("root/containers"), d.resolve("run/exits"))) {
            Files.createDirectories(p);
        }
        for (Path p :
                List.of(d.resolve("root"), d.resolve("root/containers"), d.resolve("run"), d.resolve("run/exits"))) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxrwxrwx"));
        }
        try (var second = DaemonProcess.start(d)) {
            assertEquals(
                    "660 root root",
                    run("stat", "-c", "%a %U %G", second.socket().toString())
                            .out()
                            .strip());
            assertEquals(
                    "700 700 711 700",
                    modes(d.resolve("root"), d.resolve("root/containers"), d.resolve("run"), d.resolve("run/exits")));
            assertEquals(0, second.terminate(), second::stderrText);
        }
    }

    @Test
    void unknownSocketGroup_stopsStartUpAndSaysSo() throws Exception {
        Path d = Files.createDirectories(dir.resolve("d3"));
        Files.writeString(d.resolve("stevedore.toml"), "socket_group = \"no-such-group-sd13\"\n");
        try (var bad = DaemonProcess.launch(d)) {
            assertEquals(1, bad.awaitExit(Duration.ofSeconds(60)), bad::stderrText);
            assertTrue(
                    bad.stderrText().contains("socket_group \"no-such-group-sd13\": no such group"), bad::stderrText);
            assertFalse(Files.exists(bad.socket()), "nothing bound");
        }
    }

    // ------------------------------------------------------------------ helpers

    record Pod(String id, PodSandboxConfig config) {}

    record Result(int code, String out) {}

    static RuntimeServiceGrpc.RuntimeServiceBlockingStub rt() {
        return client.runtime().withDeadlineAfter(60, TimeUnit.SECONDS);
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
                                .setNamespaceOptions(NamespaceOption.newBuilder()
                                        .setNetwork(NamespaceMode.NODE) // no CNI
                                        .setIpc(NamespaceMode.POD) // a /dev/shm of its own
                                        .setPid(NamespaceMode.POD)))) // a pause, chrooted in run_root
                .build();
        return new Pod(
                rt().runPodSandbox(
                                RunPodSandboxRequest.newBuilder().setConfig(cfg).build())
                        .getPodSandboxId(),
                cfg);
    }

    /** @param uid the user to run as; negative for the image's (root) */
    static String create(Pod pod, String name, List<String> cmd, long uid) {
        var sc = LinuxContainerSecurityContext.newBuilder();
        if (uid >= 0) sc.setRunAsUser(Int64Value.newBuilder().setValue(uid));
        return rt().createContainer(CreateContainerRequest.newBuilder()
                        .setPodSandboxId(pod.id())
                        .setConfig(ContainerConfig.newBuilder()
                                .setMetadata(ContainerMetadata.newBuilder().setName(name))
                                .setImage(ImageSpec.newBuilder().setImage(image))
                                .addAllCommand(cmd)
                                .setLogPath(name + ".log")
                                .setLinux(LinuxContainerConfig.newBuilder().setSecurityContext(sc)))
                        .setSandboxConfig(pod.config())
                        .build())
                .getContainerId();
    }

    static void start(String id) {
        rt().startContainer(
                        StartContainerRequest.newBuilder().setContainerId(id).build());
    }

    static ContainerStatus status(String id) {
        return rt().containerStatus(
                        ContainerStatusRequest.newBuilder().setContainerId(id).build())
                .getStatus();
    }

    /** Octal modes, as root sees them, space-separated. */
    static String modes(Path... paths) throws Exception {
        var out = new ArrayList<String>();
        for (Path p : paths) out.add(mode(p));
        return String.join(" ", out);
    }

    static String mode(Path p) throws Exception {
        return run("stat", "-c", "%a", p.toString()).out().strip();
    }

    static Result asNobody(String... cmd) throws Exception {
        return asUser(NOBODY, NOGROUP, cmd);
    }

    static Result asUser(int uid, int gid, String... cmd) throws Exception {
        var argv = new ArrayList<>(
                List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups", "--inh-caps=-all", "--"));
        argv.addAll(List.of(cmd));
        return run(argv.toArray(String[]::new));
    }

    static Result run(String... cmd) throws Exception {
        var p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", cmd) + " hung");
        }
        return new Result(p.exitValue(), out);
    }

    /** Failed, and for want of permission (not because the path is missing). */
    static void assertRefused(Result r, String what) {
        assertNotEquals(0, r.code(), what + " must be refused: " + r.out());
        assertTrue(r.out().contains("Permission denied"), what + ": " + r.out());
    }
}

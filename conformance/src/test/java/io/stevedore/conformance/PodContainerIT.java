package io.stevedore.conformance;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.stevedore.conformance.registry.BusyboxImage;
import io.stevedore.conformance.registry.TestImages;
import io.stevedore.conformance.registry.TestRegistry;
import io.stevedore.cri.v1.*;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Pods and containers through the daemon's socket, with real runc, stevedore-shim, pinned
 * namespaces and CNI bridge networking on a test-only bridge and subnet; the daemon is killed
 * with SIGKILL mid-life and restarted on the same state.
 */
@RequiresRoot
class PodContainerIT {
    static final String BRIDGE = "sdtest0";
    static final String NETWORK = "sdtest";
    static final String SUBNET_PREFIX = "10.123.0.";

    static Path dir;
    static TestRegistry registry;
    static DaemonProcess daemon;
    static CriClient client;
    static String image;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory("sd-pods-");
        othersInPodCgroups = ProcessHandle.allProcesses()
                .map(ProcessHandle::pid)
                .filter(PodContainerIT::inPodCgroup)
                .collect(java.util.stream.Collectors.toSet());
        registry = TestRegistry.start();
        image = BusyboxImage.push(new TestImages(registry), "test/busybox", "1").reference();
        Path cni = Files.createDirectories(dir.resolve("cni"));
        Files.writeString(cni.resolve("10-test.conflist"), """
        {"cniVersion": "1.0.0", "name": "%s", "plugins": [
          {"type": "bridge", "bridge": "%s", "isGateway": true, "ipMasq": true, "hairpinMode": true,
           "ipam": {"type": "host-local", "ranges": [[{"subnet": "%s0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
          {"type": "portmap", "capabilities": {"portMappings": true}}]}
        """.formatted(NETWORK, BRIDGE, SUBNET_PREFIX));
        Files.writeString(dir.resolve("stevedore.toml"), "[cni]\nconf_dir = \"" + cni + "\"\n");
        startDaemon();
        client.images()
                .pullImage(PullImageRequest.newBuilder()
                        .setImage(ImageSpec.newBuilder().setImage(image))
                        .build());
    }

    static void startDaemon() throws IOException {
        daemon = DaemonProcess.start(
                dir.resolve("d"), "--config", dir.resolve("stevedore.toml").toString());
        client = CriClient.connect(daemon.socket());
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
            if (daemon != null) assertEquals(0, daemon.terminate());
            assertEquals(List.of(), leftoverProcesses(), "no shim or container process outlives its pod");
            assertEquals(List.of(), mountsUnder(dir), "no mount outlives its pod");
        } finally {
            if (registry != null) registry.close();
            run("ip", "link", "del", BRIDGE);
            LiveDaemon.deleteTree(Path.of("/var/lib/cni/networks", NETWORK));
            LiveDaemon.deleteTree(dir);
        }
    }

    // ------------------------------------------------------------------ containers

    @Test
    void container_exitsWithCodeAndLogs_thenRemovalIsIdempotent() throws Exception {
        var pod = runPod("exit", b -> {});
        String id = create(pod, "exit", List.of("sh", "-c", "echo hello; echo oops >&2; exit 3"), b -> {});
        start(id);
        ContainerStatus st = awaitExited(id);
        assertEquals(3, st.getExitCode());
        assertEquals("Error", st.getReason());
        assertTrue(st.getFinishedAt() >= st.getStartedAt() && st.getStartedAt() > st.getCreatedAt());
        String log = Files.readString(Path.of(st.getLogPath()));
        assertTrue(log.matches("(?s).*\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z stdout F hello\n.*"), log);
        assertTrue(log.contains(" stderr F oops\n"), log);

        remove(id);
        assertEquals(
                0,
                rt().listContainers(ListContainersRequest.getDefaultInstance()).getContainersCount());
        remove(id); // kubelet retries removals
        var e = assertThrows(
                StatusRuntimeException.class,
                () -> rt().containerStatus(ContainerStatusRequest.newBuilder()
                        .setContainerId(id)
                        .build()));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
    }

    @Test
    void container_stoppedWithGrace_exitsOnSigterm() {
        var pod = runPod("stop", b -> {});
        String id = create(
                pod, "stop", List.of("sh", "-c", "trap 'exit 143' TERM; while true; do sleep 0.1; done"), b -> {});
        start(id);
        var r = exec(id, 10, "echo", "hi");
        assertEquals("hi\n", r.getStdout().toStringUtf8());
        assertEquals(0, r.getExitCode());
        // The largest grace period a pod can ask for (issue 11: it overflowed into UNKNOWN).
        rt().stopContainer(StopContainerRequest.newBuilder()
                .setContainerId(id)
                .setTimeout(Long.MAX_VALUE)
                .build());
        ContainerStatus st = status(id);
        assertEquals(ContainerState.CONTAINER_EXITED, st.getState());
        assertEquals(143, st.getExitCode());
        rt().stopContainer(StopContainerRequest.newBuilder()
                .setContainerId(id)
                .setTimeout(10)
                .build()); // idempotent
    }

    @Test
    void container_oneMebibyteLine_isLoggedAsPartialChunksThenFull() throws Exception {
        var pod = runPod("bigline", b -> {});
        String id =
                create(pod, "bigline", List.of("sh", "-c", "head -c 1048576 /dev/zero | tr '\\0' a; echo"), b -> {});
        start(id);
        ContainerStatus st = awaitExited(id);
        assertEquals(0, st.getExitCode());
        List<String> lines = Files.readAllLines(Path.of(st.getLogPath()));
        var text = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            String[] f = lines.get(i).split(" ", 4);
            assertEquals("stdout", f[1]);
            assertEquals(i == lines.size() - 1 ? "F" : "P", f[2], "line " + i);
            assertTrue(f[3].length() <= 16 * 1024, "chunk " + i + " is " + f[3].length() + " bytes");
            text.append(f[3]);
        }
        assertTrue(lines.size() >= 64, "1 MiB in chunks of at most 16 KiB");
        assertEquals("a".repeat(1 << 20), text.toString());
    }

    @Test
    void container_overItsMemoryLimit_isOomKilledWith137() {
        var pod = runPod("oom", b -> {});
        String id = create(
                pod,
                "oom",
                List.of("sh", "-c", "x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done"),
                b -> b.getLinuxBuilder()
                        .setResources(LinuxContainerResources.newBuilder().setMemoryLimitInBytes(32 << 20)));
        start(id);
        ContainerStatus st = awaitExited(id);
        assertEquals(137, st.getExitCode());
        assertEquals("OOMKilled", st.getReason());
    }

    @Test
    void execSync_ignoringSigtermWithAChildHoldingThePipes_returnsAtItsTimeout() {
        var pod = runPod("exectimeout", b -> {});
        String id = create(pod, "exectimeout", List.of("sleep", "3000"), b -> {});
        start(id);
        long t0 = System.nanoTime();
        var e = assertThrows(
                StatusRuntimeException.class, () -> exec(id, 2, "sh", "-c", "trap '' TERM; sleep 1001 & sleep 1002"));
        long took = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
        assertTrue(took < 30_000, "returned after " + took + " ms");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            String ps = exec(id, 10, "ps", "-o", "pid,stat,args").getStdout().toStringUtf8();
            assertFalse(ps.contains("sleep 100"), "the exec'd tree is gone:\n" + ps);
        });
    }

    // ------------------------------------------------------------------ restart safety

    @Test
    void daemonKilled_containersKeepRunningAndExitsDuringTheOutageAreRecorded() throws Exception {
        var pod = runPod("restart", b -> {});
        String a = create(pod, "a", List.of("sleep", "3000"), b -> {});
        String b = create(
                pod,
                "b",
                List.of("sh", "-c", "i=0; while [ $i -lt 20 ]; do echo line $i; i=$((i+1)); sleep 0.1; done; exit 7"),
                c -> {});
        start(a);
        start(b);
        String aInfo = rt().containerStatus(ContainerStatusRequest.newBuilder()
                        .setContainerId(a)
                        .setVerbose(true)
                        .build())
                .getInfoOrThrow("info");

        client.close();
        daemon.process().destroyForcibly().waitFor();
        daemon.close();
        long killedAt = nowNanos();
        Path exitFile = dir.resolve("d/run/exits").resolve(b);
        await("b exits while the daemon is down").atMost(Duration.ofSeconds(30)).until(() -> Files.exists(exitFile));
        // What a crash can leave: the exit of a container already gone, a half-deleted trash tree.
        Path strayExit = Files.writeString(dir.resolve("d/run/exits").resolve("f".repeat(64)), "0");
        Path strayOom = Files.writeString(dir.resolve("d/run/exits").resolve("f".repeat(64) + ".oom"), "");
        Path strayTrash =
                Files.createDirectories(dir.resolve("d/run/containers.trash/" + "e".repeat(64) + ".3/rootfs"));

        startDaemon();
        assertFalse(Files.exists(strayExit), "stray exit file removed at recovery");
        assertFalse(Files.exists(strayOom), "stray OOM marker removed at recovery");
        await("trash emptied").atMost(Duration.ofSeconds(10)).until(() -> !Files.exists(strayTrash));
        ContainerStatus sa = status(a);
        assertEquals(ContainerState.CONTAINER_RUNNING, sa.getState());
        assertEquals(
                aInfo.replaceAll(".*\"pid\":(\\d+).*", "$1"),
                rt().containerStatus(ContainerStatusRequest.newBuilder()
                                .setContainerId(a)
                                .setVerbose(true)
                                .build())
                        .getInfoOrThrow("info")
                        .replaceAll(".*\"pid\":(\\d+).*", "$1"),
                "same process");
        assertEquals("ok\n", exec(a, 10, "echo", "ok").getStdout().toStringUtf8());
        ContainerStatus sb = status(b);
        assertEquals(ContainerState.CONTAINER_EXITED, sb.getState());
        assertEquals(7, sb.getExitCode());
        assertTrue(sb.getFinishedAt() > killedAt, "finished during the outage");
        String log = Files.readString(Path.of(sb.getLogPath()));
        for (int i = 0; i < 20; i++) {
            assertTrue(log.contains(" stdout F line " + i + "\n"), "line " + i + " logged while the daemon was down");
        }
    }

    // ------------------------------------------------------------------ pods

    @Test
    void pod_hostnameDnsIpAndHostPortWork_andStopKeepsItListed() throws Exception {
        int hostPort;
        try (var s = new ServerSocket(0)) {
            hostPort = s.getLocalPort();
        }
        int hp = hostPort;
        var pod = runPod(
                "web",
                b -> b.setHostname("web-pod")
                        .setDnsConfig(DNSConfig.newBuilder()
                                .addServers("10.123.0.53")
                                .addSearches("it.example")
                                .addOptions("ndots:2"))
                        .addPortMappings(PortMapping.newBuilder()
                                .setContainerPort(80)
                                .setHostPort(hp)
                                .setHostIp("127.0.0.1")));
        String id = create(pod, "web", List.of("httpd", "-f", "-p", "80", "-h", "/www"), b -> {});
        start(id);
        assertEquals("web-pod\n", exec(id, 10, "hostname").getStdout().toStringUtf8());
        assertEquals(
                "search it.example\nnameserver 10.123.0.53\noptions ndots:2\n",
                exec(id, 10, "cat", "/etc/resolv.conf").getStdout().toStringUtf8());

        var ps = rt().podSandboxStatus(PodSandboxStatusRequest.newBuilder()
                        .setPodSandboxId(pod.id)
                        .build())
                .getStatus();
        String ip = ps.getNetwork().getIp();
        assertTrue(ip.startsWith(SUBNET_PREFIX), ip);
        await().atMost(Duration.ofSeconds(10))
                .ignoreExceptions()
                .untilAsserted(() -> assertTrue(httpGet(ip, 80).contains("hi from the pod")));
        await().atMost(Duration.ofSeconds(10))
                .ignoreExceptions()
                .untilAsserted(() -> assertTrue(httpGet("127.0.0.1", hp).contains("hi from the pod")));

        rt().stopPodSandbox(StopPodSandboxRequest.newBuilder()
                .setPodSandboxId(pod.id)
                .build());
        var listed =
                rt().listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList();
        assertEquals(1, listed.size());
        assertEquals(PodSandboxState.SANDBOX_NOTREADY, listed.getFirst().getState());
        assertEquals(ContainerState.CONTAINER_EXITED, status(id).getState());
        rt().stopPodSandbox(StopPodSandboxRequest.newBuilder()
                .setPodSandboxId(pod.id)
                .build()); // idempotent
        rt().removePodSandbox(RemovePodSandboxRequest.newBuilder()
                .setPodSandboxId(pod.id)
                .build());
        rt().removePodSandbox(RemovePodSandboxRequest.newBuilder()
                .setPodSandboxId(pod.id)
                .build()); // idempotent
        assertEquals(
                0,
                rt().listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsCount());
        assertThrows(IOException.class, () -> httpGet("127.0.0.1", hp), "the host port is released");
    }

    @Test
    void podCycles_hundredRunStopRemove_leaveNothingBehind() throws Exception {
        // one warm-up cycle creates what is shared by all pods (the bridge, portmap's top chains)
        cycle(0, true);
        String iptables = iptables();
        long veths = links().stream().filter(l -> l.contains("veth")).count();
        List<String> cgroups = stevedoreCgroups();
        for (int i = 1; i <= 100; i++) {
            cycle(i, i % 10 == 0);
        }
        assertEquals(List.of(), list(dir.resolve("d/run/ns/net")), "netns pins");
        assertEquals(List.of(), list(dir.resolve("d/run/ns/ipc")), "ipc pins");
        assertEquals(veths, links().stream().filter(l -> l.contains("veth")).count(), "veths");
        assertEquals(iptables, iptables(), "iptables rules");
        assertEquals(
                List.of(),
                list(Path.of("/var/lib/cni/networks", NETWORK)).stream()
                        .filter(n -> n.startsWith(SUBNET_PREFIX))
                        .toList(),
                "host-local reservations");
        assertEquals(cgroups, stevedoreCgroups(), "pod cgroups");
        assertEquals(List.of(), mountsUnder(dir.resolve("d")), "mounts");
        assertEquals(List.of(), leftoverProcesses(), "processes");
    }

    private void cycle(int i, boolean withContainer) {
        var pod = runPod("cycle-" + i, b -> {});
        if (withContainer) {
            start(create(pod, "c", List.of("sleep", "3000"), b -> {}));
        }
        rt().stopPodSandbox(StopPodSandboxRequest.newBuilder()
                .setPodSandboxId(pod.id)
                .build());
        rt().removePodSandbox(RemovePodSandboxRequest.newBuilder()
                .setPodSandboxId(pod.id)
                .build());
    }

    // ------------------------------------------------------------------ helpers

    record Pod(String id, PodSandboxConfig config) {}

    static RuntimeServiceGrpc.RuntimeServiceBlockingStub rt() {
        return client.runtime().withDeadlineAfter(60, java.util.concurrent.TimeUnit.SECONDS);
    }

    static Pod runPod(String name, Consumer<PodSandboxConfig.Builder> edit) {
        var b = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder()
                        .setName(name)
                        .setNamespace("it")
                        .setUid(UUID.randomUUID().toString()))
                .setLogDirectory(dir.resolve("logs")
                        .resolve(name + "-" + UUID.randomUUID())
                        .toString())
                .setLinux(LinuxPodSandboxConfig.getDefaultInstance());
        edit.accept(b);
        var cfg = b.build();
        return new Pod(
                rt().runPodSandbox(
                                RunPodSandboxRequest.newBuilder().setConfig(cfg).build())
                        .getPodSandboxId(),
                cfg);
    }

    static String create(Pod pod, String name, List<String> cmd, Consumer<ContainerConfig.Builder> edit) {
        var b = ContainerConfig.newBuilder()
                .setMetadata(ContainerMetadata.newBuilder().setName(name))
                .setImage(ImageSpec.newBuilder().setImage(image))
                .addAllCommand(cmd)
                .setLogPath(name + ".log");
        edit.accept(b);
        return rt().createContainer(CreateContainerRequest.newBuilder()
                        .setPodSandboxId(pod.id)
                        .setConfig(b)
                        .setSandboxConfig(pod.config)
                        .build())
                .getContainerId();
    }

    static void start(String id) {
        rt().startContainer(
                        StartContainerRequest.newBuilder().setContainerId(id).build());
    }

    static void remove(String id) {
        rt().removeContainer(
                        RemoveContainerRequest.newBuilder().setContainerId(id).build());
    }

    static ContainerStatus status(String id) {
        return rt().containerStatus(
                        ContainerStatusRequest.newBuilder().setContainerId(id).build())
                .getStatus();
    }

    static ContainerStatus awaitExited(String id) {
        await("container " + id + " exits")
                .atMost(Duration.ofSeconds(60))
                .until(() -> status(id).getState() == ContainerState.CONTAINER_EXITED);
        return status(id);
    }

    static ExecSyncResponse exec(String id, long timeout, String... cmd) {
        return rt().execSync(ExecSyncRequest.newBuilder()
                .setContainerId(id)
                .addAllCmd(List.of(cmd))
                .setTimeout(timeout)
                .build());
    }

    static String httpGet(String host, int port) throws IOException {
        try (var s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 2000);
            s.setSoTimeout(5000);
            s.getOutputStream()
                    .write(("GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            try (InputStream in = s.getInputStream()) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        }
    }

    static long nowNanos() {
        var t = java.time.Instant.now();
        return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }

    static List<String> list(Path d) throws IOException {
        if (!Files.isDirectory(d)) return List.of();
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    static List<String> mountsUnder(Path d) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .map(l -> l.split(" ")[4])
                .filter(m -> m.startsWith(d.toString()))
                .toList();
    }

    /**
     * Shims (their command lines name this test's dirs), and pauses and container processes (in a
     * pod cgroup under {@code /stevedore}) of this test's daemon.
     */
    static List<String> leftoverProcesses() {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info()
                                .commandLine()
                                .map(c -> c.contains(dir.toString()) && !c.contains("java"))
                                .orElse(false)
                        || (inPodCgroup(p.pid()) && !othersInPodCgroups.contains(p.pid())))
                .map(p -> p.pid() + " " + p.info().commandLine().orElse(""))
                .toList();
    }

    /** Pod processes of another stevedore on this machine (a developer's), there before this test. */
    private static java.util.Set<Long> othersInPodCgroups = java.util.Set.of();

    private static boolean inPodCgroup(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "cgroup"))
                    .contains(":/stevedore/");
        } catch (IOException e) {
            return false; // gone
        }
    }

    static List<String> stevedoreCgroups() throws IOException {
        var out = new ArrayList<String>();
        for (String c : List.of("memory", "cpu,cpuacct", "pids", "unified")) {
            out.addAll(list(Path.of("/sys/fs/cgroup", c, "stevedore")).stream()
                    .map(n -> c + "/" + n)
                    .toList());
        }
        return out;
    }

    static List<String> links() throws Exception {
        return run("ip", "-o", "link").lines().toList();
    }

    static String iptables() throws Exception {
        return run("iptables-save")
                .lines()
                .filter(l -> !l.startsWith("#"))
                .map(l -> l.replaceAll("\\[\\d+:\\d+\\]", ""))
                .filter(l -> !l.contains(BRIDGE) || l.startsWith("-A"))
                .reduce("", (x, y) -> x + y + "\n");
    }

    static String run(String... cmd) throws Exception {
        var p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }
}

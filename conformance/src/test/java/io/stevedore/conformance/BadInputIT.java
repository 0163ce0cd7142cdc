package io.stevedore.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.stevedore.conformance.registry.BusyboxImage;
import io.stevedore.conformance.registry.TestImages;
import io.stevedore.conformance.registry.TestRegistry;
import io.stevedore.cri.v1.*;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Hostile and malformed CRI input (issue 11), replayed against the real daemon over its socket: each
 * case asserts the gRPC code, that {@code Version} still answers within 2 s while and after it
 * runs, and that nothing half-made is left (no container, no pod, no mount). Cases that can hold a
 * thread run as many at once as the machine has CPUs, plus one. Grows with every bad input found.
 */
@RequiresRoot
class BadInputIT {
    static final String BRIDGE = "sdbad0";
    static final String NETWORK = "sdbad";
    static final int CONCURRENT = Runtime.getRuntime().availableProcessors() + 1;

    /** Every status code the daemon answered in this suite, by RPC: none may be UNKNOWN. */
    static final java.util.Map<String, java.util.Set<Status.Code>> CODES =
            new java.util.concurrent.ConcurrentHashMap<>();

    static final BridgeNetwork NET = new BridgeNetwork(NETWORK, BRIDGE, "10.126.0.0/24");

    static Path dir;
    static TestRegistry registry;
    static DaemonProcess daemon;
    static CriClient client;
    static String image;
    static long rssBeforeKb;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory("sd-bad-");
        registry = TestRegistry.start();
        image = BusyboxImage.push(new TestImages(registry), "test/busybox", "1").reference();
        Path config = NET.writeConfig(dir);
        daemon = DaemonProcess.start(dir.resolve("d"), "--config", config.toString());
        client = CriClient.connect(daemon.socket(), new CodeRecorder());
        client.images()
                .pullImage(PullImageRequest.newBuilder()
                        .setImage(ImageSpec.newBuilder().setImage(image))
                        .build());
        rssBeforeKb = rssKb();
    }

    /** Containers a test made on purpose; any other container is one a refused request left. */
    static final List<String> made = new ArrayList<>();

    @AfterEach
    void nothingHalfMade() throws Exception {
        assertVersionAnswers();
        var left = rt().listContainers(ListContainersRequest.getDefaultInstance()).getContainersList().stream()
                .map(Container::getId)
                .filter(id -> !made.contains(id))
                .toList();
        made.clear();
        for (var p :
                rt().listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()) {
            rt().stopPodSandbox(StopPodSandboxRequest.newBuilder()
                    .setPodSandboxId(p.getId())
                    .build());
            rt().removePodSandbox(RemovePodSandboxRequest.newBuilder()
                    .setPodSandboxId(p.getId())
                    .build());
        }
        assertEquals(List.of(), left, "a refused CreateContainer leaves no container");
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            if (client != null) {
                long afterKb = rssKb();
                System.out.printf(
                        "BadInputIT: daemon RSS %d MiB before the suite, %d MiB right after%n",
                        rssBeforeKb >> 10, afterKb >> 10);
                // The heap and the C library give a burst's memory back within seconds (HeapReturn).
                Awaitility.await()
                        .atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofSeconds(1))
                        .until(() -> rssKb() - rssBeforeKb < 64 << 10);
                System.out.printf(
                        "BadInputIT: daemon RSS %d MiB before the suite, %d MiB right after, %d MiB settled%n",
                        rssBeforeKb >> 10, afterKb >> 10, rssKb() >> 10);
                client.close();
            }
            CODES.forEach((rpc, codes) -> assertFalse(codes.contains(Status.Code.UNKNOWN), rpc + " answered UNKNOWN"));
            System.out.println("BadInputIT: codes answered " + CODES);
            if (daemon != null) assertEquals(0, daemon.terminate());
            assertEquals(List.of(), PodContainerIT.mountsUnder(dir), "no mount left behind");
        } finally {
            // A failed check above must not leave the daemon running.
            if (daemon != null && daemon.process().isAlive()) daemon.terminate();
            if (registry != null) registry.close();
            NET.remove();
            LiveDaemon.deleteTree(dir);
        }
    }

    // ------------------------------------------------------------------ 1–3: seccomp profile paths

    @Test
    void seccompProfile_fifo_manyAtOnce_refusedAndVersionKeepsAnswering() throws Exception {
        Path fifo = dir.resolve("profile.fifo");
        PodContainerIT.run("mkfifo", fifo.toString());
        var pod = runPod("fifo", b -> {});
        var codes = concurrently(() -> createWithProfile(pod, "localhost/" + fifo));
        codes.forEach(c -> assertEquals(Status.Code.INVALID_ARGUMENT, c));
    }

    @Test
    void seccompProfile_devZero_manyAtOnce_refusedWithoutFillingTheHeap() throws Exception {
        var pod = runPod("zero", b -> {});
        var codes = concurrently(() -> createWithProfile(pod, "localhost//dev/zero"));
        codes.forEach(c -> assertEquals(Status.Code.INVALID_ARGUMENT, c));
    }

    @Test
    void seccompProfile_aSecretFile_errorDoesNotDiscloseIt() throws Exception {
        Path secret = Files.writeString(dir.resolve("shadow"), "root:$6$topsecrethash:19000:0:99999:7:::\n");
        var pod = runPod("shadow", b -> {});
        var e = assertThrows(
                StatusRuntimeException.class,
                () -> create(
                        pod,
                        b -> b.setLinux(LinuxContainerConfig.newBuilder()
                                .setSecurityContext(LinuxContainerSecurityContext.newBuilder()
                                        .setSeccomp(SecurityProfile.newBuilder()
                                                .setProfileType(SecurityProfile.ProfileType.Localhost)
                                                .setLocalhostRef(secret.toString()))))));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertFalse(
                e.getStatus().getDescription().contains("topsecrethash"),
                e.getStatus().getDescription());
        assertFalse(
                e.getStatus().getDescription().contains("root:"), e.getStatus().getDescription());
    }

    // ------------------------------------------------------------------ 6, 7, 9: fields

    @Test
    void dnsServerWithANewline_isInvalidArgument_andNoPodIsLeft() {
        var e = assertThrows(
                StatusRuntimeException.class,
                () -> runPod(
                        "dns",
                        b -> b.setDnsConfig(DNSConfig.newBuilder().addServers("10.0.0.10\nnameserver 6.6.6.6"))));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals(
                0,
                rt().listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsCount());
    }

    @Test
    void logPathOutsideThePodLogDirectory_isInvalidArgument() {
        var pod = runPod("logpath", b -> {});
        for (String bad : List.of("../../escape.log", "/etc/cron.d/evil")) {
            var e = assertThrows(StatusRuntimeException.class, () -> create(pod, b -> b.setLogPath(bad)));
            assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), bad);
        }
        assertFalse(Files.exists(Path.of("/etc/cron.d/evil")));
    }

    @Test
    void namesPortsAndSysctls_outOfRange_areInvalidArgument_neverUnknown() {
        List<Consumer<PodSandboxConfig.Builder>> bad = List.of(
                b -> b.setMetadata(b.getMetadata().toBuilder().setName("nul\u0000name")),
                b -> b.setMetadata(b.getMetadata().toBuilder().setNamespace("n".repeat(1 << 20))),
                b -> b.addPortMappings(
                        PortMapping.newBuilder().setContainerPort(80).setHostPort(65536)),
                b -> b.addPortMappings(PortMapping.newBuilder().setContainerPort(-1)),
                b -> b.addPortMappings(
                        PortMapping.newBuilder().setContainerPort(80).setProtocolValue(99)),
                b -> b.addPortMappings(
                        PortMapping.newBuilder().setContainerPort(80).setHostIp("not-an-ip")),
                b -> b.setLinux(LinuxPodSandboxConfig.newBuilder().putSysctls("net.ipv4.ip_forward", "1\nkernel.x=1")),
                b -> b.setLinux(LinuxPodSandboxConfig.newBuilder().putSysctls("kernel.panic", "1")),
                // More than the pinner takes: its usage error used to come back as "Optional[...]".
                b -> b.setLinux(LinuxPodSandboxConfig.newBuilder()
                        .putAllSysctls(java.util.stream.IntStream.range(0, 129)
                                .boxed()
                                .collect(java.util.stream.Collectors.toMap(
                                        i -> "net.ipv4.conf.eth" + i + ".forwarding", i -> "1")))));
        for (int i = 0; i < bad.size(); i++) {
            var edit = bad.get(i);
            var e = assertThrows(StatusRuntimeException.class, () -> runPod("bad", edit), "case " + i);
            assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), "case " + i);
            assertTrue(e.getStatus().getDescription().length() < 512, "echoed input is cut: case " + i);
            assertFalse(
                    e.getStatus().getDescription().contains("Optional["),
                    e.getStatus().getDescription());
        }
    }

    @Test
    void reopenLogOfAContainerThatIsNotRunning_isFailedPrecondition() {
        var pod = runPod("reopen", b -> {});
        String id = made(create(pod, b -> {}));
        var e = assertThrows(
                StatusRuntimeException.class,
                () -> rt().reopenContainerLog(ReopenContainerLogRequest.newBuilder()
                        .setContainerId(id)
                        .build()));
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        rt().removeContainer(
                        RemoveContainerRequest.newBuilder().setContainerId(id).build());
    }

    // ------------------------------------------------------------------ 4, 5, 8: runtime paths

    @Test
    void aWritableLayerTwoThousandDirectoriesDeep_isRemoved() {
        var pod = runPod("deep", b -> {});
        // Three chains of 701 directories, each path within PATH_MAX, moved into one another.
        String id = made(create(pod, b -> b.clearCommand().addAllCommand(List.of("sh", "-c", """
        set -e; p=d; i=0; while [ $i -lt 700 ]; do p=$p/d; i=$((i+1)); done
        mkdir -p /x/$p /y/$p /z/$p; mv /z /y/$p/; mv /y /x/$p/
        """))));
        rt().startContainer(
                        StartContainerRequest.newBuilder().setContainerId(id).build());
        Awaitility.await()
                .atMost(Duration.ofSeconds(60))
                .until(() -> status(id).getState() == ContainerState.CONTAINER_EXITED);
        assertEquals(0, status(id).getExitCode(), "the tree was made");
        rt().removeContainer(
                        RemoveContainerRequest.newBuilder().setContainerId(id).build());
        Path layers = daemon.root().resolve("containers");
        assertFalse(Files.exists(layers.resolve(id)), "the writable layer is gone");
        Awaitility.await()
                .atMost(Duration.ofSeconds(60))
                .until(() -> isEmpty(daemon.root().resolve("containers.trash")));
    }

    @Test
    void aRuntimeErrorOfAThousandCharacters_isInternal_withTheCauseCut() {
        var pod = runPod("longerr", b -> {});
        String path = "/" + String.join("/", java.util.Collections.nCopies(5, "a".repeat(200)));
        String id = made(create(pod, b -> b.clearCommand().addCommand(path)));
        var e = assertThrows(
                StatusRuntimeException.class,
                () -> rt().startContainer(StartContainerRequest.newBuilder()
                        .setContainerId(id)
                        .build()));
        assertEquals(Status.Code.INTERNAL, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("aaaa"), "the runtime's error is carried: " + e.getStatus());
        assertTrue(e.getStatus().getDescription().length() <= 1100, "and cut");
        rt().removeContainer(
                        RemoveContainerRequest.newBuilder().setContainerId(id).build());
    }

    @Test
    void stopWithAGraceOfCenturies_onAContainerIgnoringSigterm_aShorterStopStillKillsIt() throws Exception {
        var pod = runPod("stopforever", b -> {});
        String id = made(create(
                pod,
                b -> b.clearCommand().addAllCommand(List.of("sh", "-c", "trap '' TERM; while :; do sleep 1; done"))));
        rt().startContainer(
                        StartContainerRequest.newBuilder().setContainerId(id).build());
        var e = assertThrows(
                StatusRuntimeException.class,
                () -> client.runtime()
                        .withDeadlineAfter(2, TimeUnit.SECONDS)
                        .stopContainer(StopContainerRequest.newBuilder()
                                .setContainerId(id)
                                .setTimeout(Long.MAX_VALUE)
                                .build()));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
        assertVersionAnswers();
        assertEquals(ContainerState.CONTAINER_RUNNING, status(id).getState(), "SIGTERM is ignored");
        rt().stopContainer(StopContainerRequest.newBuilder()
                .setContainerId(id)
                .setTimeout(0)
                .build());
        assertEquals(ContainerState.CONTAINER_EXITED, status(id).getState());
        rt().removeContainer(
                        RemoveContainerRequest.newBuilder().setContainerId(id).build());
    }

    @Test
    void aSymlinkPlantedAtTheLogPath_isNotFollowed() throws Exception {
        Path target = dir.resolve("planted-target");
        var pod = runPod("planted", b -> {});
        Path logDir = Files.createDirectories(Path.of(pod.config().getLogDirectory()));
        Files.createSymbolicLink(logDir.resolve("c.log"), target);
        var e = assertThrows(StatusRuntimeException.class, () -> create(pod, b -> {}));
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        assertFalse(Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS));
    }

    // ------------------------------------------------------------------ 10: memory under load

    @Test
    void requestsOfSixteenMebibytes_manyAtOnce_areRefused_andVersionKeepsAnswering() throws Exception {
        var pod = runPod("big", b -> {});
        String big = "x".repeat((16 << 20) - (64 << 10)); // within gRPC's inbound limit: reaches our validation
        for (int round = 0; round < 3; round++) {
            var codes = concurrently(() -> code(() -> create(pod, b -> b.putAnnotations("big", big))));
            codes.forEach(c -> assertEquals(Status.Code.INVALID_ARGUMENT, c));
        }
        String tooBig = "x".repeat(17 << 20);
        var codes = concurrently(() -> code(() -> create(pod, b -> b.putAnnotations("big", tooBig))));
        codes.forEach(c -> assertEquals(Status.Code.RESOURCE_EXHAUSTED, c, "gRPC's own inbound limit"));
    }

    @Test
    void execSyncOutputPastItsCap_manyAtOnce_isCutWithAMarker() throws Exception {
        var pod = runPod("execbig", b -> {});
        String id = made(create(pod, b -> {}));
        rt().startContainer(
                        StartContainerRequest.newBuilder().setContainerId(id).build());
        for (int round = 0; round < 2; round++) {
            var answers = concurrently(() -> rt().execSync(ExecSyncRequest.newBuilder()
                    .setContainerId(id)
                    .addAllCmd(List.of("head", "-c", "20000000", "/dev/zero"))
                    .setTimeout(60)
                    .build()));
            for (var a : answers) {
                assertEquals(0, a.getExitCode());
                String tail = a.getStdout()
                        .substring(Math.max(0, a.getStdout().size() - 100))
                        .toStringUtf8();
                assertTrue(tail.matches("(?s).*\\n\\[stevedore: output truncated after \\d+ bytes\\]\\n"), tail);
                assertTrue(a.getStdout().size() < 16 << 20);
            }
        }
        rt().stopContainer(StopContainerRequest.newBuilder()
                .setContainerId(id)
                .setTimeout(0)
                .build());
        rt().removeContainer(
                        RemoveContainerRequest.newBuilder().setContainerId(id).build());
    }

    // ------------------------------------------------------------------ helpers

    static String made(String id) {
        made.add(id);
        return id;
    }

    static Status.Code code(Runnable call) {
        try {
            call.run();
            return Status.Code.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
        }
    }

    static ContainerStatus status(String id) {
        return rt().containerStatus(
                        ContainerStatusRequest.newBuilder().setContainerId(id).build())
                .getStatus();
    }

    static boolean isEmpty(Path dir) throws java.io.IOException {
        if (!Files.exists(dir)) return true;
        try (var s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }

    /** Records the status code of every call this suite makes, client-side failures included. */
    static final class CodeRecorder implements io.grpc.ClientInterceptor {
        @Override
        public <Q, A> io.grpc.ClientCall<Q, A> interceptCall(
                io.grpc.MethodDescriptor<Q, A> method, io.grpc.CallOptions options, io.grpc.Channel next) {
            return new io.grpc.ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                @Override
                public void start(Listener<A> listener, io.grpc.Metadata headers) {
                    super.start(
                            new io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                                @Override
                                public void onClose(Status status, io.grpc.Metadata trailers) {
                                    CODES.computeIfAbsent(
                                                    method.getBareMethodName(),
                                                    k -> java.util.concurrent.ConcurrentHashMap.newKeySet())
                                            .add(status.getCode());
                                    super.onClose(status, trailers);
                                }
                            },
                            headers);
                }
            };
        }
    }

    /** Runs {@code call} {@link #CONCURRENT} times at once, checking Version answers meanwhile. */
    static <T> List<T> concurrently(Callable<T> call) throws Exception {
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            var futures = new ArrayList<Future<T>>();
            for (int i = 0; i < CONCURRENT; i++) {
                futures.add(pool.submit(call));
            }
            assertVersionAnswers();
            var codes = new ArrayList<T>();
            for (var f : futures) {
                codes.add(f.get(60, TimeUnit.SECONDS));
            }
            assertVersionAnswers();
            return codes;
        }
    }

    static void assertVersionAnswers() {
        var v = client.runtime().withDeadlineAfter(2, TimeUnit.SECONDS).version(VersionRequest.getDefaultInstance());
        assertNotEquals("", v.getRuntimeName());
    }

    static Status.Code createWithProfile(PodContainerIT.Pod pod, String profile) {
        try {
            create(
                    pod,
                    b -> b.setLinux(LinuxContainerConfig.newBuilder()
                            .setSecurityContext(
                                    LinuxContainerSecurityContext.newBuilder().setSeccompProfilePath(profile))));
            return Status.Code.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
        }
    }

    static RuntimeServiceGrpc.RuntimeServiceBlockingStub rt() {
        return client.runtime().withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    static PodContainerIT.Pod runPod(String name, Consumer<PodSandboxConfig.Builder> edit) {
        var b = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder()
                        .setName(name)
                        .setNamespace("bad")
                        .setUid(UUID.randomUUID().toString()))
                .setLogDirectory(dir.resolve("logs")
                        .resolve(name + "-" + UUID.randomUUID())
                        .toString())
                .setLinux(LinuxPodSandboxConfig.getDefaultInstance());
        edit.accept(b);
        var cfg = b.build();
        return new PodContainerIT.Pod(
                rt().runPodSandbox(
                                RunPodSandboxRequest.newBuilder().setConfig(cfg).build())
                        .getPodSandboxId(),
                cfg);
    }

    static String create(PodContainerIT.Pod pod, Consumer<ContainerConfig.Builder> edit) {
        var b = ContainerConfig.newBuilder()
                .setMetadata(ContainerMetadata.newBuilder()
                        .setName("c-" + UUID.randomUUID().toString().substring(0, 8)))
                .setImage(ImageSpec.newBuilder().setImage(image))
                .addAllCommand(List.of("sleep", "1000"))
                .setLogPath("c.log");
        edit.accept(b);
        return rt().createContainer(CreateContainerRequest.newBuilder()
                        .setPodSandboxId(pod.id())
                        .setConfig(b)
                        .setSandboxConfig(pod.config())
                        .build())
                .getContainerId();
    }

    static long rssKb() {
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/" + daemon.process().pid() + "/status"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        for (String l : lines) {
            if (l.startsWith("VmRSS:")) {
                return Long.parseLong(l.replaceAll("[^0-9]", ""));
            }
        }
        return 0;
    }
}

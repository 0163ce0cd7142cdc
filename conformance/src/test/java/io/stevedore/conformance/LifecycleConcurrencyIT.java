package io.stevedore.conformance;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A container's grace period holds up nothing but its own stop (issue 12, Done-when 3). While
 * StopContainer waits out the grace period of a container that ignores SIGTERM, ContainerStatus of
 * that container, ListContainers and RemoveContainer of a sibling all answer, and answer first.
 *
 * <p>The check is about order, not time: every call takes a number from one counter when it
 * returns, and each must hold a smaller number than the stop. Latencies are printed, never
 * asserted, so a slow machine cannot fail it and a fast one cannot hide a lock.
 */
@RequiresRoot
class LifecycleConcurrencyIT {
    static final String BRIDGE = "sdlcc0";
    static final String NETWORK = "sdlcc";
    static final String SUBNET = "10.127.0.0/24";
    static final long GRACE_S = 10;
    static final int STATUS_CALLS = 100;
    /** One ListContainers after every this many ContainerStatus calls. */
    static final int LIST_EVERY = 20;
    /** What A's trap prints: the daemon has sent the stop signal, so the stop is in its grace wait. */
    static final String TERM_SEEN = "stop signal received, ignored";

    static final BridgeNetwork NET = new BridgeNetwork(NETWORK, BRIDGE, SUBNET);

    static Path dir;
    static TestRegistry registry;
    static DaemonProcess daemon;
    static CriClient client;
    static String image;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory("sd-lcc-");
        registry = TestRegistry.start();
        image = BusyboxImage.push(new TestImages(registry), "test/busybox", "1").reference();
        Path config = NET.writeConfig(dir);
        daemon = DaemonProcess.start(dir.resolve("d"), "--config", config.toString());
        client = CriClient.connect(daemon.socket());
        client.images()
                .pullImage(PullImageRequest.newBuilder()
                        .setImage(ImageSpec.newBuilder().setImage(image))
                        .build());
    }

    /** Whatever a failed test left: RemoveContainer force-stops, so a container still running goes too. */
    @AfterEach
    void removeEverything() {
        for (var c :
                rt().listContainers(ListContainersRequest.getDefaultInstance()).getContainersList()) {
            rt().removeContainer(RemoveContainerRequest.newBuilder()
                    .setContainerId(c.getId())
                    .build());
        }
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
            assertEquals(List.of(), PodContainerIT.mountsUnder(dir), "no mount left behind");
            assertEquals(List.of(), shimsOfThisTest(), "no shim outlives the daemon");
        } finally {
            if (registry != null) registry.close();
            NET.remove();
            LiveDaemon.deleteTree(dir);
        }
        assertFalse(Files.exists(Path.of("/sys/class/net", BRIDGE)), "the bridge is deleted");
        assertFalse(Files.exists(Path.of("/var/lib/cni/networks", NETWORK)), "the IPAM state is deleted");
    }

    @Test
    void stopContainer_inTheGracePeriodOfAContainerIgnoringSigterm_statusListAndASiblingsRemovalReturnFirst()
            throws Exception {
        // given: A ignores SIGTERM (its trap only says so); B ran and exited, so removing it has a
        // run to undo (runtime state, rootfs mount, bundle, writable layer), not just a record.
        var pod = runPod("lcc");
        String a = create(pod, "a", "sh", "-c", "trap 'echo " + TERM_SEEN + "' TERM; while :; do sleep 1; done");
        String b = create(pod, "b", "sleep", "1000");
        start(a);
        start(b);
        rt().stopContainer(StopContainerRequest.newBuilder()
                .setContainerId(b)
                .setTimeout(0)
                .build());
        assertEquals(ContainerState.CONTAINER_EXITED, status(b).getState());
        var before = status(a);
        assertEquals(ContainerState.CONTAINER_RUNNING, before.getState());
        Path logA = Path.of(before.getLogPath());

        var seq = new AtomicLong();
        var stopIssued = new CountDownLatch(1);
        var probes = new ArrayList<Call>();
        Call stop;
        Call removeB;
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            // when: A's stop waits out its grace period on a thread of its own
            Future<Call> stopping = pool.submit(() -> {
                stopIssued.countDown();
                return timed(
                        "StopContainer(A)",
                        seq,
                        () -> client.runtime()
                                .withDeadlineAfter(4 * GRACE_S + 5, TimeUnit.SECONDS)
                                .stopContainer(StopContainerRequest.newBuilder()
                                        .setContainerId(a)
                                        .setTimeout(GRACE_S)
                                        .build()));
            });
            assertTrue(stopIssued.await(10, TimeUnit.SECONDS), "the stop is issued");
            // Waits on A's log, not on ContainerStatus: a status held up by the stop must show as
            // an answer out of order (with the numbers), not as a timeout here.
            await("A has its stop signal")
                    .atMost(Duration.ofSeconds(5))
                    .pollInterval(Duration.ofMillis(20))
                    .until(() -> Files.exists(logA) && Files.readString(logA).contains(TERM_SEEN));

            // and meanwhile: B's removal, and 100 statuses of A with a list now and then
            Future<Call> removing = pool.submit(() -> timed(
                    "RemoveContainer(B)",
                    seq,
                    () -> rt().removeContainer(RemoveContainerRequest.newBuilder()
                            .setContainerId(b)
                            .build())));
            for (int i = 0; i < STATUS_CALLS; i++) {
                probes.add(timed("ContainerStatus(A)", seq, () -> status(a)));
                if (i % LIST_EVERY == LIST_EVERY - 1) {
                    probes.add(timed(
                            "ListContainers",
                            seq,
                            () -> rt().listContainers(ListContainersRequest.getDefaultInstance())));
                }
            }
            removeB = removing.get(60, TimeUnit.SECONDS);
            probes.add(removeB);
            stop = stopping.get(4 * GRACE_S + 10, TimeUnit.SECONDS);
        }
        print(probes, removeB, stop);

        // then: every one of them returned before the stop did, and saw A running
        assertAll(
                "calls during StopContainer(A)'s grace period",
                () -> assertNull(stop.error(), "StopContainer(A) failed"),
                () -> none("failed", probes, p -> p.error() != null),
                () -> none("returned after StopContainer(A) (#" + stop.seq() + ")", probes, p -> p.seq() > stop.seq()),
                () -> none(
                        "answered, before the stop returned, other than RUNNING with no finished_at",
                        probes.stream()
                                .filter(p -> p.answer() instanceof ContainerStatus && p.seq() < stop.seq())
                                .toList(),
                        p -> p.answer() instanceof ContainerStatus s
                                && (s.getState() != ContainerState.CONTAINER_RUNNING || s.getFinishedAt() != 0)));

        // and after it: A was killed, B is gone
        var after = status(a);
        assertEquals(ContainerState.CONTAINER_EXITED, after.getState(), "A right after its stop returned");
        assertEquals(137, after.getExitCode(), "A ignored SIGTERM: SIGKILL");
        assertEquals(
                List.of(a),
                rt().listContainers(ListContainersRequest.getDefaultInstance()).getContainersList().stream()
                        .map(Container::getId)
                        .toList());
        var e = assertThrows(StatusRuntimeException.class, () -> status(b));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());

        rt().removeContainer(
                        RemoveContainerRequest.newBuilder().setContainerId(a).build());
        rt().stopPodSandbox(StopPodSandboxRequest.newBuilder()
                .setPodSandboxId(pod.id())
                .build());
        rt().removePodSandbox(RemovePodSandboxRequest.newBuilder()
                .setPodSandboxId(pod.id())
                .build());
    }

    // ------------------------------------------------------------------ helpers

    /** One call: what it answered or how it failed, how long it took, and its place in the order of returns. */
    record Call(String rpc, Object answer, StatusRuntimeException error, long nanos, long seq) {
        String describe() {
            String outcome = error != null
                    ? error.getStatus().toString()
                    : answer instanceof ContainerStatus s ? s.getState() + " finished_at=" + s.getFinishedAt() : "OK";
            return rpc + " #" + seq + " in " + ms(nanos) + " ms: " + outcome;
        }
    }

    static Call timed(String rpc, AtomicLong seq, Supplier<?> call) {
        long t0 = System.nanoTime();
        try {
            Object answer = call.get();
            long nanos = System.nanoTime() - t0;
            return new Call(rpc, answer, null, nanos, seq.incrementAndGet());
        } catch (StatusRuntimeException e) {
            long nanos = System.nanoTime() - t0;
            return new Call(rpc, null, e, nanos, seq.incrementAndGet());
        }
    }

    /** Fails naming how many of {@code calls} are {@code what}, and the first few of them. */
    static void none(String what, List<Call> calls, java.util.function.Predicate<Call> is) {
        var bad = calls.stream().filter(is).toList();
        assertTrue(
                bad.isEmpty(),
                () -> bad.size() + " of " + calls.size() + " calls " + what + "; the first: "
                        + bad.stream().limit(5).map(Call::describe).toList());
    }

    static void print(List<Call> probes, Call removeB, Call stop) {
        for (String rpc : List.of("ContainerStatus(A)", "ListContainers")) {
            long[] ns = probes.stream()
                    .filter(p -> p.rpc().equals(rpc))
                    .mapToLong(Call::nanos)
                    .sorted()
                    .toArray();
            System.out.printf(
                    "LifecycleConcurrencyIT: %s x%d during the grace period: p50 %s ms, p99 %s ms, max %s ms%n",
                    rpc, ns.length, ms(percentile(ns, 50)), ms(percentile(ns, 99)), ms(ns[ns.length - 1]));
        }
        System.out.printf(
                "LifecycleConcurrencyIT: RemoveContainer(B) %s ms; StopContainer(A, %d s) %s ms;"
                        + " the stop returned as #%d of %d; calls that returned after it: %d%n",
                ms(removeB.nanos()),
                GRACE_S,
                ms(stop.nanos()),
                stop.seq(),
                probes.size() + 1,
                probes.stream().filter(p -> p.seq() > stop.seq()).count());
    }

    /** Nearest-rank percentile of sorted values. */
    static long percentile(long[] sorted, int p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, rank - 1)];
    }

    static String ms(long nanos) {
        return String.format("%.2f", nanos / 1e6);
    }

    static List<String> shimsOfThisTest() {
        return Host.processesNaming(dir);
    }

    static RuntimeServiceGrpc.RuntimeServiceBlockingStub rt() {
        return client.runtime().withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    static ContainerStatus status(String id) {
        return rt().containerStatus(
                        ContainerStatusRequest.newBuilder().setContainerId(id).build())
                .getStatus();
    }

    static void start(String id) {
        rt().startContainer(
                        StartContainerRequest.newBuilder().setContainerId(id).build());
    }

    static PodContainerIT.Pod runPod(String name) {
        var cfg = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder()
                        .setName(name)
                        .setNamespace("lcc")
                        .setUid(UUID.randomUUID().toString()))
                .setLogDirectory(dir.resolve("logs")
                        .resolve(name + "-" + UUID.randomUUID())
                        .toString())
                .setLinux(LinuxPodSandboxConfig.getDefaultInstance())
                .build();
        return new PodContainerIT.Pod(
                rt().runPodSandbox(
                                RunPodSandboxRequest.newBuilder().setConfig(cfg).build())
                        .getPodSandboxId(),
                cfg);
    }

    static String create(PodContainerIT.Pod pod, String name, String... cmd) {
        return rt().createContainer(CreateContainerRequest.newBuilder()
                        .setPodSandboxId(pod.id())
                        .setConfig(ContainerConfig.newBuilder()
                                .setMetadata(ContainerMetadata.newBuilder().setName(name))
                                .setImage(ImageSpec.newBuilder().setImage(image))
                                .addAllCommand(List.of(cmd))
                                .setLogPath(name + ".log"))
                        .setSandboxConfig(pod.config())
                        .build())
                .getContainerId();
    }
}

package io.stevedore.conformance;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * GetContainerEvents against the real daemon (issue 14, Done-when 2): two subscribers watch a
 * host-network pod with two containers that are created, started, exit on their own and are
 * removed. The one that reads gets every transition, in order per container, with the pod's and
 * the containers' statuses. The other never reads (it asks for nothing, on a connection with a
 * tiny flow-control window): the daemon drops it once its buffer (4 events here) is full, so its
 * stream ends with RESOURCE_EXHAUSTED, and every lifecycle call still answers meanwhile. An exit
 * while the daemon is down is replayed to a subscriber that comes after its restart.
 */
@RequiresRoot
class ContainerEventsIT {
    static final int BUFFER = 4;

    static Path dir;
    static TestRegistry registry;
    static DaemonProcess daemon;
    static CriClient client;
    static String image;
    static EventLoopGroup idleLoop;
    static ManagedChannel idleChannel;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory("sd-events-");
        registry = TestRegistry.start();
        image = BusyboxImage.push(new TestImages(registry), "test/busybox", "1").reference();
        Path cni = Files.createDirectories(dir.resolve("net.d")); // empty: host-network pods only
        Path cfg = dir.resolve("stevedore.toml");
        Files.writeString(
                cfg, "[cni]\nconf_dir = \"" + cni + "\"\n[limits]\ncontainer_events_buffer = " + BUFFER + "\n");
        daemon = DaemonProcess.start(dir.resolve("d"), "--config", cfg.toString());
        client = CriClient.connect(daemon.socket());
        client.images()
                .pullImage(PullImageRequest.newBuilder()
                        .setImage(ImageSpec.newBuilder().setImage(image))
                        .build());
        // The idle subscriber's own connection: a 16-byte stream window, so what it does not read
        // stays in the daemon instead of in a megabyte of client-side buffer.
        idleLoop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        idleChannel = NettyChannelBuilder.forAddress(
                        new DomainSocketAddress(daemon.socket().toString()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(idleLoop)
                .usePlaintext()
                .flowControlWindow(16)
                .build();
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            if (idleChannel != null) {
                idleChannel.shutdownNow();
                idleChannel.awaitTermination(5, TimeUnit.SECONDS);
                idleLoop.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            }
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
            await("no shim outlives its container")
                    .atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertEquals(List.of(), Host.processesNaming(dir)));
        } finally {
            if (daemon != null) daemon.close(); // a failed check above must not leave it running
            if (registry != null) registry.close();
            LiveDaemon.deleteTree(dir);
        }
    }

    /** A subscriber: the events it received, how its stream ended, when it was subscribed. */
    static final class Subscriber implements ClientResponseObserver<GetEventsRequest, ContainerEventResponse> {
        final boolean reads;
        final List<ContainerEventResponse> got = new CopyOnWriteArrayList<>();
        final CompletableFuture<Status> end = new CompletableFuture<>();
        final CountDownLatch subscribed = new CountDownLatch(1);
        volatile ClientCallStreamObserver<GetEventsRequest> call;

        Subscriber(boolean reads) {
            this.reads = reads;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<GetEventsRequest> call) {
            this.call = call;
            if (!reads) call.disableAutoRequestWithInitial(0); // asks for nothing until told to
        }

        @Override
        public void onNext(ContainerEventResponse e) {
            got.add(e);
        }

        @Override
        public void onError(Throwable t) {
            end.complete(Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {
            end.complete(Status.OK);
        }

        /** Subscribes; returns once the daemon's response headers say the subscription is in place. */
        Subscriber subscribe(Channel channel) throws InterruptedException {
            RuntimeServiceGrpc.newStub(channel)
                    .withInterceptors(new ClientInterceptor() {
                        @Override
                        public <Q, A> ClientCall<Q, A> interceptCall(
                                MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
                            return new ForwardingClientCall.SimpleForwardingClientCall<>(
                                    next.newCall(method, options)) {
                                @Override
                                public void start(Listener<A> listener, Metadata headers) {
                                    super.start(
                                            new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(
                                                    listener) {
                                                @Override
                                                public void onHeaders(Metadata h) {
                                                    subscribed.countDown();
                                                    super.onHeaders(h);
                                                }
                                            },
                                            headers);
                                }
                            };
                        }
                    })
                    .getContainerEvents(GetEventsRequest.getDefaultInstance(), this);
            assertTrue(subscribed.await(30, TimeUnit.SECONDS), "subscribed");
            return this;
        }

        /** The kinds of the events of {@code id}, in the order received. */
        List<String> of(String id) {
            return got.stream()
                    .filter(e -> e.getContainerId().equals(id))
                    .map(e -> e.getContainerEventType().name().split("_")[1])
                    .toList();
        }
    }

    @Test
    void twoContainersCreatedStartedExitedRemoved_theReaderSeesItAllInOrder_theIdleOneIsDropped() throws Exception {
        var idle = new Subscriber(false).subscribe(idleChannel);
        var reader = new Subscriber(true).subscribe(client.channel());
        List<Long> callMillis = new ArrayList<>();

        long t = System.nanoTime();
        var pod = runPod("events");
        String a = create(pod, "a", "sh", "-c", "exit 3");
        String b = create(pod, "b", "sh", "-c", "exit 0");
        start(a);
        start(b);
        callMillis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t));
        for (String id : List.of(a, b)) {
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> status(id).getState() == ContainerState.CONTAINER_EXITED);
        }
        t = System.nanoTime();
        for (String id : List.of(a, b)) {
            rt().removeContainer(RemoveContainerRequest.newBuilder()
                    .setContainerId(id)
                    .build());
        }
        rt().stopPodSandbox(StopPodSandboxRequest.newBuilder()
                .setPodSandboxId(pod.id())
                .build());
        rt().removePodSandbox(RemovePodSandboxRequest.newBuilder()
                .setPodSandboxId(pod.id())
                .build());
        callMillis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t));
        System.out.println("lifecycle calls with an idle subscriber (ms): " + callMillis);

        // the reader: every transition, in order per container, the pod's around its containers'
        // (after a restart, another test's replayed exit may come first: only this pod's count)
        var ours = java.util.Set.of(pod.id(), a, b);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> reader.got.stream()
                                .filter(e -> ours.contains(e.getContainerId()))
                                .count()
                        == 12);
        var mine = reader.got.stream()
                .filter(e -> ours.contains(e.getContainerId()))
                .toList();
        var order = List.of("CREATED", "STARTED", "STOPPED", "DELETED");
        assertEquals(order, reader.of(a));
        assertEquals(order, reader.of(b));
        assertEquals(order, reader.of(pod.id()));
        assertEquals(
                List.of(pod.id() + ":CONTAINER_CREATED_EVENT", pod.id() + ":CONTAINER_STARTED_EVENT"),
                ids(mine.subList(0, 2)),
                "the pod runs first");
        assertEquals(
                List.of(pod.id() + ":CONTAINER_STOPPED_EVENT", pod.id() + ":CONTAINER_DELETED_EVENT"),
                ids(mine.subList(10, 12)),
                "and goes last");
        for (int i = 1; i < 12; i++) {
            assertTrue(mine.get(i).getCreatedAt() >= mine.get(i - 1).getCreatedAt(), "created_at");
        }
        var stopped = mine.stream()
                .filter(e -> e.getContainerId().equals(a)
                        && e.getContainerEventType() == ContainerEventType.CONTAINER_STOPPED_EVENT)
                .findFirst()
                .orElseThrow();
        assertEquals(pod.id(), stopped.getPodSandboxStatus().getId());
        var own = stopped.getContainersStatusesList().stream()
                .filter(s -> s.getId().equals(a))
                .findFirst()
                .orElseThrow();
        assertEquals(ContainerState.CONTAINER_EXITED, own.getState());
        assertEquals(3, own.getExitCode());
        assertTrue(
                stopped.getContainersStatusesList().stream()
                        .anyMatch(s -> s.getId().equals(b)),
                "its sibling");
        assertFalse(reader.end.isDone(), "the reader is still subscribed");

        // the idle one: dropped while it did not read; what it gets once it reads ends in the error
        assertFalse(idle.end.isDone(), "it has read nothing, not even its end");
        idle.call.request(Integer.MAX_VALUE);
        Status dropped = idle.end.get(30, TimeUnit.SECONDS);
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, dropped.getCode(), dropped.toString());
        assertTrue(
                dropped.getDescription().contains("fell more than " + BUFFER + " events behind"), dropped.toString());
        System.out.println("the idle subscriber got " + idle.got.size() + " events, then " + dropped);
        assertTrue(idle.got.size() < reader.got.size(), "it was dropped before the end: " + idle.got.size());
        assertEquals(ids(reader.got.subList(0, idle.got.size())), ids(idle.got), "what it got was in order");
    }

    @Test
    void anExitWhileTheDaemonWasDown_isReplayedToWhoeverSubscribesAfterItsRestart() throws Exception {
        Path flag = Files.createDirectories(dir.resolve("flag"));
        var pod = runPod("outage");
        String c = rt().createContainer(CreateContainerRequest.newBuilder()
                        .setPodSandboxId(pod.id())
                        .setConfig(ContainerConfig.newBuilder()
                                .setMetadata(ContainerMetadata.newBuilder().setName("c"))
                                .setImage(ImageSpec.newBuilder().setImage(image))
                                .addAllCommand(
                                        List.of("sh", "-c", "while [ ! -e /flag/go ]; do sleep 0.1; done; exit 7"))
                                .addMounts(Mount.newBuilder()
                                        .setHostPath(flag.toString())
                                        .setContainerPath("/flag"))
                                .setLogPath("c.log"))
                        .setSandboxConfig(pod.config())
                        .build())
                .getContainerId();
        start(c);

        // the daemon goes down (its containers stay); the container exits meanwhile
        client.close();
        assertEquals(0, daemon.terminate(), daemon::stderrText);
        Files.writeString(flag.resolve("go"), "");
        await("the container exited during the outage")
                .atMost(Duration.ofSeconds(30))
                .until(() -> ProcessHandle.allProcesses()
                        .noneMatch(p -> p.info()
                                .commandLine()
                                .map(l -> l.contains("/flag/go"))
                                .orElse(false)));
        daemon = DaemonProcess.start(
                dir.resolve("d"), "--config", dir.resolve("stevedore.toml").toString());
        client = CriClient.connect(daemon.socket());

        var reader = new Subscriber(true).subscribe(client.channel());
        await().atMost(Duration.ofSeconds(30)).until(() -> !reader.got.isEmpty());
        var replayed = reader.got.getFirst();
        assertEquals(c + ":CONTAINER_STOPPED_EVENT", ids(List.of(replayed)).getFirst());
        var own = replayed.getContainersStatusesList().stream()
                .filter(st -> st.getId().equals(c))
                .findFirst()
                .orElseThrow();
        assertEquals(7, own.getExitCode());
        assertEquals(pod.id(), replayed.getPodSandboxStatus().getId());
        rt().removePodSandbox(RemovePodSandboxRequest.newBuilder()
                .setPodSandboxId(pod.id())
                .build());
        await().atMost(Duration.ofSeconds(30)).until(() -> reader.of(pod.id()).contains("DELETED"));
        assertEquals(List.of("STOPPED", "DELETED"), reader.of(c), "live events follow the replay");
    }

    static List<String> ids(List<ContainerEventResponse> events) {
        return events.stream()
                .map(e -> e.getContainerId() + ":" + e.getContainerEventType())
                .toList();
    }

    record Pod(String id, PodSandboxConfig config) {}

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
                                        .setIpc(NamespaceMode.POD)
                                        .setPid(NamespaceMode.CONTAINER))))
                .build();
        return new Pod(
                rt().runPodSandbox(
                                RunPodSandboxRequest.newBuilder().setConfig(cfg).build())
                        .getPodSandboxId(),
                cfg);
    }

    static String create(Pod pod, String name, String... cmd) {
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

    static void start(String id) {
        rt().startContainer(
                        StartContainerRequest.newBuilder().setContainerId(id).build());
    }

    static ContainerStatus status(String id) {
        return rt().containerStatus(
                        ContainerStatusRequest.newBuilder().setContainerId(id).build())
                .getStatus();
    }

    static RuntimeServiceGrpc.RuntimeServiceBlockingStub rt() {
        return client.runtime().withDeadlineAfter(30, TimeUnit.SECONDS);
    }
}

package io.stevedore.server.grpc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
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
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.stevedore.cri.v1.*;
import io.stevedore.server.DaemonConfig;
import io.stevedore.server.container.ContainerStreams;
import io.stevedore.server.container.FakeContainers;
import io.stevedore.server.error.CriException;
import io.stevedore.server.events.EventBus;
import io.stevedore.server.info.RuntimeInfoService;
import io.stevedore.server.sandbox.FakeSandboxes;
import io.stevedore.server.sandbox.SandboxService;
import io.stevedore.server.stats.CgroupStats;
import io.stevedore.server.stats.StatsService;
import io.stevedore.server.streaming.StreamingServer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GetContainerEvents over the in-process transport, with the real pod and container services over
 * fakes: a subscriber that reads gets every transition in order; one that never reads is dropped
 * with RESOURCE_EXHAUSTED, and the lifecycle goes on unaffected.
 */
class EventsGrpcTest {
    static final int BUFFER = 3;

    @TempDir
    Path dir;

    SandboxService sandboxes;
    FakeContainers containers;
    EventBus events;
    StreamingServer streaming;
    Server server;
    ManagedChannel channel;
    RuntimeServiceGrpc.RuntimeServiceBlockingStub rt;

    @BeforeEach
    void start() throws IOException {
        events = new EventBus(
                id -> {
                    try {
                        return Optional.of(sandboxes.status(id));
                    } catch (CriException.NotFound e) {
                        return Optional.empty();
                    }
                },
                id -> containers.service().storedStatuses(id),
                BUFFER,
                InstantSource.system());
        var pods = new FakeSandboxes(dir.resolve("pods"));
        containers = new FakeContainers(
                dir.resolve("containers"),
                runtimes -> {
                    try {
                        sandboxes = pods.start(runtimes);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                    return sandboxes;
                },
                events);
        sandboxes.setContainers(containers.service());
        sandboxes.setEvents(events);
        events.open(Duration.ZERO);
        streaming = StreamingServer.start(
                DaemonConfig.defaults().stream(), new ContainerStreams(containers.service(), sandboxes));
        var info = new RuntimeInfoService("1.2.3", List.of("runc"), false, Optional::empty, Map::of);
        var stats = new StatsService(sandboxes, containers.service(), new CgroupStats(dir.resolve("cgroup")));
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name)
                .directExecutor()
                .addService(EarlyHeaders.around(new RuntimeGrpcService(
                        new Rpc(() -> true), info, sandboxes, containers.service(), stats, streaming, events)))
                .build()
                .start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        rt = RuntimeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws IOException {
        events.close();
        channel.shutdownNow();
        server.shutdownNow();
        streaming.close();
        containers.close();
    }

    /** A subscriber: what it received, how it ended, and when it knew it was subscribed. */
    static final class Subscriber implements ClientResponseObserver<GetEventsRequest, ContainerEventResponse> {
        final boolean reads;
        final List<String> got = new CopyOnWriteArrayList<>();
        final CompletableFuture<Status> end = new CompletableFuture<>();
        final CountDownLatch subscribed = new CountDownLatch(1);

        Subscriber(boolean reads) {
            this.reads = reads;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<GetEventsRequest> call) {
            if (!reads) call.disableAutoRequestWithInitial(0); // asks for nothing, ever
        }

        @Override
        public void onNext(ContainerEventResponse e) {
            got.add(e.getContainerId() + ":" + e.getContainerEventType().name().split("_")[1]);
        }

        @Override
        public void onError(Throwable t) {
            end.complete(Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {
            end.complete(Status.OK);
        }

        /** Subscribes over {@code channel}; returns once the server's headers say it is subscribed. */
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
            assertTrue(subscribed.await(10, TimeUnit.SECONDS), "headers come before any event");
            return this;
        }
    }

    String createContainer(String podId, String name) {
        return rt.createContainer(CreateContainerRequest.newBuilder()
                        .setPodSandboxId(podId)
                        .setConfig(ContainerConfig.newBuilder()
                                .setMetadata(ContainerMetadata.newBuilder().setName(name))
                                .setImage(ImageSpec.newBuilder().setImage("busybox")))
                        .build())
                .getContainerId();
    }

    @Test
    void twoSubscribers_theReaderGetsEveryTransitionInOrder_theIdleOneIsDropped() throws Exception {
        var idle = new Subscriber(false).subscribe(channel);
        var reader = new Subscriber(true).subscribe(channel);
        assertEquals(2, events.subscribers());

        String pod = rt.runPodSandbox(RunPodSandboxRequest.newBuilder()
                        .setConfig(FakeSandboxes.pod("web"))
                        .build())
                .getPodSandboxId();
        String a = createContainer(pod, "a");
        String b = createContainer(pod, "b");
        for (String id : List.of(a, b)) {
            rt.startContainer(
                    StartContainerRequest.newBuilder().setContainerId(id).build());
        }
        for (String id : List.of(a, b)) {
            rt.stopContainer(StopContainerRequest.newBuilder()
                    .setContainerId(id)
                    .setTimeout(10)
                    .build());
            rt.removeContainer(
                    RemoveContainerRequest.newBuilder().setContainerId(id).build());
        }
        rt.stopPodSandbox(
                StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        rt.removePodSandbox(
                RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod).build());

        var expected = List.of(
                pod + ":CREATED",
                pod + ":STARTED",
                a + ":CREATED",
                b + ":CREATED",
                a + ":STARTED",
                b + ":STARTED",
                a + ":STOPPED",
                a + ":DELETED",
                b + ":STOPPED",
                b + ":DELETED",
                pod + ":STOPPED",
                pod + ":DELETED");
        await().atMost(Duration.ofSeconds(10)).until(() -> reader.got.size() == expected.size());
        assertEquals(expected, reader.got);

        Status dropped = idle.end.get(10, TimeUnit.SECONDS);
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, dropped.getCode());
        assertTrue(dropped.getDescription().contains("fell more than 3 events behind"), dropped.getDescription());
        assertEquals(List.of(), idle.got);
        assertEquals(1, events.subscribers(), "the reader is still subscribed");
        assertTrue(!reader.end.isDone());
    }

    @Test
    void eventsOfAContainer_carryItsPodsStatusAndItsContainers() throws Exception {
        var reader = new Subscriber(true).subscribe(channel);
        var observed = new CopyOnWriteArrayList<ContainerEventResponse>();
        // a second, raw reader to look at the whole messages
        RuntimeServiceGrpc.newStub(channel)
                .getContainerEvents(GetEventsRequest.getDefaultInstance(), new io.grpc.stub.StreamObserver<>() {
                    @Override
                    public void onNext(ContainerEventResponse e) {
                        observed.add(e);
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {}
                });
        await().atMost(Duration.ofSeconds(10)).until(() -> events.subscribers() == 2);
        String pod = rt.runPodSandbox(RunPodSandboxRequest.newBuilder()
                        .setConfig(FakeSandboxes.pod("web"))
                        .build())
                .getPodSandboxId();
        String a = createContainer(pod, "a");
        rt.startContainer(StartContainerRequest.newBuilder().setContainerId(a).build());
        await().atMost(Duration.ofSeconds(10)).until(() -> observed.size() == 4);

        var started = observed.get(3);
        assertEquals(ContainerEventType.CONTAINER_STARTED_EVENT, started.getContainerEventType());
        assertEquals(pod, started.getPodSandboxStatus().getId());
        assertEquals(
                PodSandboxState.SANDBOX_READY, started.getPodSandboxStatus().getState());
        assertEquals(1, started.getContainersStatusesCount());
        assertEquals(a, started.getContainersStatuses(0).getId());
        assertEquals(
                ContainerState.CONTAINER_RUNNING,
                started.getContainersStatuses(0).getState());
        assertTrue(started.getCreatedAt() > observed.get(2).getCreatedAt());
        assertEquals(4, reader.got.size());
    }

    @Test
    void shutdown_endsTheStreamsOk_andNewSubscribersAreUnavailable() throws Exception {
        var reader = new Subscriber(true).subscribe(channel);
        events.close();
        assertEquals(Status.Code.OK, reader.end.get(10, TimeUnit.SECONDS).getCode());
        var late = new Subscriber(true);
        RuntimeServiceGrpc.newStub(channel).getContainerEvents(GetEventsRequest.getDefaultInstance(), late);
        assertEquals(Status.Code.UNAVAILABLE, late.end.get(10, TimeUnit.SECONDS).getCode());
        var e = assertInstanceOf(
                StatusRuntimeException.class,
                org.junit.jupiter.api.Assertions.assertThrows(
                        StatusRuntimeException.class,
                        () -> RuntimeServiceGrpc.newBlockingStub(channel)
                                .getContainerEvents(GetEventsRequest.getDefaultInstance())
                                .hasNext()));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
    }
}

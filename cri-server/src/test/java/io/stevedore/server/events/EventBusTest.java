package io.stevedore.server.events;

import static io.stevedore.cri.v1.ContainerEventType.CONTAINER_CREATED_EVENT;
import static io.stevedore.cri.v1.ContainerEventType.CONTAINER_DELETED_EVENT;
import static io.stevedore.cri.v1.ContainerEventType.CONTAINER_STARTED_EVENT;
import static io.stevedore.cri.v1.ContainerEventType.CONTAINER_STOPPED_EVENT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.cri.v1.ContainerEventResponse;
import io.stevedore.cri.v1.ContainerEventType;
import io.stevedore.cri.v1.ContainerState;
import io.stevedore.cri.v1.ContainerStatus;
import io.stevedore.cri.v1.PodSandboxState;
import io.stevedore.cri.v1.PodSandboxStatus;
import io.stevedore.server.error.CriException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The event bus alone: order per container, several subscribers, a subscriber that never reads
 * dropped while the others and the lifecycle go on, the start-up backlog, the end at shutdown.
 */
class EventBusTest {
    static final Duration WAIT = Duration.ofSeconds(10);

    /** The "stored" statuses the bus reads, by pod. */
    final Map<String, List<ContainerStatus>> stored = new ConcurrentHashMap<>();

    final AtomicInteger described = new AtomicInteger();
    final AtomicLong ticks = new AtomicLong(1_000);
    final InstantSource clock = () -> Instant.ofEpochSecond(0, ticks.incrementAndGet());
    EventBus bus;

    EventBus bus(int buffer) {
        bus = new EventBus(
                pod -> pod.startsWith("gone")
                        ? Optional.empty()
                        : Optional.of(PodSandboxStatus.newBuilder()
                                .setId(pod)
                                .setState(PodSandboxState.SANDBOX_READY)
                                .build()),
                pod -> {
                    described.incrementAndGet();
                    return stored.getOrDefault(pod, List.of());
                },
                buffer,
                clock);
        return bus;
    }

    @AfterEach
    void close() {
        if (bus != null) bus.close();
    }

    static ContainerStatus status(String id, ContainerState state) {
        return ContainerStatus.newBuilder().setId(id).setState(state).build();
    }

    /** Reports one transition of container {@code id} of pod "p". */
    void report(ContainerEventType type, String id, ContainerState state) {
        bus.container(type, id, "p", type == CONTAINER_DELETED_EVENT ? null : () -> status(id, state));
    }

    /** Takes {@code n} events from {@code s}, waiting for each. */
    static List<ContainerEventResponse> take(Subscription s, int n) {
        List<ContainerEventResponse> got = new ArrayList<>();
        await().atMost(WAIT)
                .pollDelay(Duration.ZERO)
                .pollInterval(Duration.ofMillis(2))
                .until(() -> {
                    for (ContainerEventResponse e; got.size() < n && (e = s.poll()) != null; ) got.add(e);
                    return got.size() == n;
                });
        return got;
    }

    static String kinds(List<ContainerEventResponse> events) {
        return String.join(
                " ",
                events.stream()
                        .map(e -> e.getContainerId() + ":"
                                + e.getContainerEventType().name().split("_")[1])
                        .toList());
    }

    @Test
    void events_ofEachContainer_reachEverySubscriberInOrder_withIncreasingTimes() {
        bus(1000).open(Duration.ZERO);
        var one = bus.subscribe();
        var two = bus.subscribe();
        for (int i = 0; i < 50; i++) {
            String id = "c" + i;
            report(CONTAINER_CREATED_EVENT, id, ContainerState.CONTAINER_CREATED);
            report(CONTAINER_STARTED_EVENT, id, ContainerState.CONTAINER_RUNNING);
            report(CONTAINER_STOPPED_EVENT, id, ContainerState.CONTAINER_EXITED);
            report(CONTAINER_DELETED_EVENT, id, ContainerState.CONTAINER_EXITED);
        }
        for (var s : List.of(one, two)) {
            var got = take(s, 200);
            for (int i = 0; i < 50; i++) {
                assertEquals(
                        "c%d:CREATED c%d:STARTED c%d:STOPPED c%d:DELETED".formatted(i, i, i, i),
                        kinds(got.subList(4 * i, 4 * i + 4)));
            }
            for (int i = 1; i < got.size(); i++) {
                assertTrue(got.get(i).getCreatedAt() > got.get(i - 1).getCreatedAt(), "created_at grows");
            }
        }
    }

    @Test
    void event_carriesThePodStatus_andItsContainers_withItsOwnStatusAsOfTheTransition() {
        bus(10).open(Duration.ZERO);
        var s = bus.subscribe();
        // the store already shows "a" exited: the event of its start still says RUNNING
        stored.put(
                "p",
                List.of(status("a", ContainerState.CONTAINER_EXITED), status("b", ContainerState.CONTAINER_RUNNING)));
        report(CONTAINER_STARTED_EVENT, "a", ContainerState.CONTAINER_RUNNING);
        report(CONTAINER_DELETED_EVENT, "b", null);
        bus.pod(
                CONTAINER_STOPPED_EVENT,
                "p",
                () -> PodSandboxStatus.newBuilder()
                        .setId("p")
                        .setState(PodSandboxState.SANDBOX_NOTREADY)
                        .build());
        bus.container(CONTAINER_DELETED_EVENT, "x", "gone1", null);
        var got = take(s, 4);

        assertEquals("p", got.get(0).getPodSandboxStatus().getId());
        assertEquals(
                List.of(status("a", ContainerState.CONTAINER_RUNNING), status("b", ContainerState.CONTAINER_RUNNING)),
                got.get(0).getContainersStatusesList());
        assertEquals(
                List.of(status("a", ContainerState.CONTAINER_EXITED)),
                got.get(1).getContainersStatusesList(),
                "a deleted container is not among its pod's");
        assertEquals("p", got.get(2).getContainerId(), "a pod's own event names it as the container");
        assertEquals(
                PodSandboxState.SANDBOX_NOTREADY,
                got.get(2).getPodSandboxStatus().getState());
        assertEquals(2, got.get(2).getContainersStatusesCount());
        assertTrue(!got.get(3).hasPodSandboxStatus(), "a pod that is gone has no status to send");
    }

    @Test
    void subscriberThatNeverReads_isDroppedWhenItsBufferIsFull_whileTheOtherGetsEverything() {
        bus(5).open(Duration.ZERO);
        var idle = bus.subscribe();
        var reader = bus.subscribe();
        List<ContainerEventResponse> read = new ArrayList<>();
        // The lifecycle reports far more than the buffer holds and never waits for anyone.
        assertTimeoutPreemptively(WAIT, () -> {
            for (int i = 0; i < 40; i++) {
                report(CONTAINER_CREATED_EVENT, "c" + i, ContainerState.CONTAINER_CREATED);
                read.addAll(take(reader, 1));
            }
        });
        assertEquals(40, read.size());
        assertEquals("c39", read.get(39).getContainerId());
        await().atMost(WAIT).until(() -> idle.ended().isPresent());
        assertEquals(Subscription.End.FELL_BEHIND, idle.ended().get());
        assertNull(idle.poll(), "a dropped subscriber's buffer is freed");
        assertEquals(1, bus.subscribers(), "only the reader is left");
        report(CONTAINER_STARTED_EVENT, "c0", ContainerState.CONTAINER_RUNNING);
        assertEquals("c0:STARTED", kinds(take(reader, 1)));
        assertNull(idle.poll());
    }

    @Test
    void lifecycle_neverWaits_evenWhenEverySubscriberIsStuck() {
        bus(2).open(Duration.ZERO);
        List<Subscription> stuck = new ArrayList<>();
        for (int i = 0; i < 3; i++) stuck.add(bus.subscribe());
        assertTimeoutPreemptively(WAIT, () -> {
            for (int i = 0; i < 20_000; i++) {
                report(CONTAINER_CREATED_EVENT, "c" + i, ContainerState.CONTAINER_CREATED);
            }
        });
        await().atMost(WAIT).until(() -> bus.subscribers() == 0);
        stuck.forEach(s -> assertEquals(Optional.of(Subscription.End.FELL_BEHIND), s.ended()));
    }

    @Test
    void withNoSubscriber_transitionsAreNotEvenDescribed() {
        bus(10).open(Duration.ZERO);
        report(CONTAINER_CREATED_EVENT, "a", ContainerState.CONTAINER_CREATED);
        var s = bus.subscribe();
        report(CONTAINER_STARTED_EVENT, "a", ContainerState.CONTAINER_RUNNING);
        assertEquals("a:STARTED", kinds(take(s, 1)));
        assertEquals(1, described.get(), "only the event someone could get was described");
        s.close();
        assertEquals(0, bus.subscribers());
    }

    @Test
    void transitionsOfStartUp_areReplayedToSubscribersThatComeInTime() {
        bus(3);
        // recovery: four exits found while the daemon was down (the buffer keeps the newest three)
        for (int i = 0; i < 4; i++) report(CONTAINER_STOPPED_EVENT, "r" + i, ContainerState.CONTAINER_EXITED);
        bus.open(Duration.ofHours(1));
        var first = bus.subscribe();
        var second = bus.subscribe();
        for (var s : List.of(first, second)) {
            assertEquals("r1:STOPPED r2:STOPPED r3:STOPPED", kinds(take(s, 3)));
        }
        report(CONTAINER_DELETED_EVENT, "r3", null);
        for (var s : List.of(first, second)) {
            assertEquals("r3:DELETED", kinds(take(s, 1)));
        }
    }

    @Test
    void transitionsOfStartUp_areNotReplayedAfterTheReplayPeriod() {
        bus(3);
        report(CONTAINER_STOPPED_EVENT, "r0", ContainerState.CONTAINER_EXITED);
        var early = bus.subscribe(); // before open: allowed (the daemon refuses calls until then anyway)
        assertEquals("r0:STOPPED", kinds(take(early, 1)));
        bus.open(Duration.ZERO);
        var late = bus.subscribe();
        report(CONTAINER_STARTED_EVENT, "a", ContainerState.CONTAINER_RUNNING);
        assertEquals("a:STARTED", kinds(take(late, 1)));
    }

    @Test
    void close_endsEveryStreamAfterWhatItHolds_andRefusesNewSubscribers() {
        bus(10).open(Duration.ZERO);
        var s = bus.subscribe();
        AtomicInteger changes = new AtomicInteger();
        s.onChange(changes::incrementAndGet);
        report(CONTAINER_CREATED_EVENT, "a", ContainerState.CONTAINER_CREATED);
        await().atMost(WAIT).until(() -> changes.get() >= 2);
        bus.close();
        assertEquals(Optional.empty(), s.ended(), "the event before the end is still there");
        assertEquals("a:CREATED", kinds(take(s, 1)));
        assertEquals(Optional.of(Subscription.End.SHUT_DOWN), s.ended());
        assertThrows(CriException.Unavailable.class, bus::subscribe);
    }
}

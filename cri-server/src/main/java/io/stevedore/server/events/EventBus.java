package io.stevedore.server.events;

import io.stevedore.cri.v1.ContainerEventResponse;
import io.stevedore.cri.v1.ContainerEventType;
import io.stevedore.cri.v1.ContainerStatus;
import io.stevedore.cri.v1.PodSandboxStatus;
import io.stevedore.server.error.CriException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The container events of GetContainerEvents, fanned out to every subscriber.
 *
 * <pre>
 *   lifecycle (under the object's lock)     one dispatcher thread              each subscriber
 *   container(…) / pod(…) ── note ──▶ pending ──▶ describe: pod status, ──▶ its own bounded buffer
 *   (never waits)                     (FIFO)      the pod's containers'     ──▶ its gRPC stream
 *                                                 statuses                      (as fast as it reads)
 * </pre>
 *
 * The lifecycle only notes a transition (its kind, ids, time and an immutable snapshot), in the
 * order it committed them; one thread describes the notes in that order, so the events of one
 * container reach every subscriber in the order they happened. A subscriber whose buffer is full
 * is dropped ({@link Subscription}); nothing here ever waits for a subscriber. With no subscriber,
 * a transition costs a volatile read.
 *
 * <p>Transitions found by start-up recovery (exits while the daemon was down) happen before
 * anyone can subscribe: until {@link #open} they are kept (at most one buffer's worth, the newest),
 * and each subscriber that comes within the replay period after {@link #open} gets them first.
 * Their {@code created_at} says when recovery found them, so a late subscriber can tell them old.
 */
public final class EventBus implements LifecycleEvents, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventBus.class);

    /** Events one subscriber may have waiting before it is dropped (containerd's channel holds 1000). */
    public static final int DEFAULT_BUFFER = 1000;

    /** Transitions noted but not described yet; past this the subscribers cannot be kept whole. */
    private static final int MAX_PENDING = 10_000;

    private final Function<String, Optional<PodSandboxStatus>> pods;
    private final Function<String, List<ContainerStatus>> containers;
    private final int buffer;
    private final InstantSource clock;
    private final BlockingQueue<Note> pending = new LinkedBlockingQueue<>(MAX_PENDING);
    private final Thread dispatcher;

    private final Object lock = new Object(); // guards the fields below
    private final List<Subscription> subscribers = new ArrayList<>();
    private final ArrayDeque<ContainerEventResponse> backlog = new ArrayDeque<>();
    private long backlogUntil; // System.nanoTime(); replay ends there
    private boolean closed;

    /** Until {@link #open}: transitions are kept for the first subscribers. */
    private volatile boolean holding = true;
    /** Whether a transition must be noted at all: holding, or someone subscribed (written under lock). */
    private volatile boolean interested = true;
    /** Set when {@link #pending} overflowed: every subscriber missed an event and is dropped. */
    private volatile boolean lost;

    /**
     * @param pods a pod's current status, empty when it is gone
     * @param containers the current statuses of a pod's containers, as stored (no waiting, no
     *     runtime call)
     * @param buffer events one subscriber may have waiting before it is dropped
     */
    public EventBus(
            Function<String, Optional<PodSandboxStatus>> pods,
            Function<String, List<ContainerStatus>> containers,
            int buffer,
            InstantSource clock) {
        if (buffer < 1) throw new IllegalArgumentException("events buffer must be at least 1");
        this.pods = pods;
        this.containers = containers;
        this.buffer = buffer;
        this.clock = clock;
        this.dispatcher = Thread.ofPlatform()
                .daemon()
                .name("container-events")
                .uncaughtExceptionHandler((t, e) -> log.atError().setCause(e).log("container events stopped"))
                .start(this::dispatch);
    }

    // ---------------------------------------------------------------- the lifecycle's side

    @Override
    public void container(
            ContainerEventType type, String containerId, String sandboxId, Supplier<ContainerStatus> status) {
        note(new Note(type, containerId, sandboxId, nanos(clock.instant()), null, status, holding, null));
    }

    @Override
    public void pod(ContainerEventType type, String sandboxId, Supplier<PodSandboxStatus> status) {
        note(new Note(type, sandboxId, sandboxId, nanos(clock.instant()), status, null, holding, null));
    }

    private void note(Note n) {
        if (!interested) return;
        if (!pending.offer(n)) {
            lost = true; // the dispatcher drops everyone: never wait here
        }
    }

    // ---------------------------------------------------------------- the subscribers' side

    /**
     * Ends the start-up hold: from now on transitions go to subscribers only; those kept so far
     * are replayed to each subscriber that comes within {@code replay}. Waits (at start-up, a few
     * seconds at most) until those noted so far are described, so that the replay is whole.
     */
    public void open(Duration replay) {
        var described = new CountDownLatch(1);
        try {
            if (pending.offer(new Note(null, "", "", 0, null, null, true, described), 10, TimeUnit.SECONDS)) {
                described.await(30, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (lock) {
            holding = false;
            backlogUntil = System.nanoTime() + replay.toNanos();
            interested = !subscribers.isEmpty();
        }
    }

    /**
     * A new subscriber, with the transitions kept from start-up if it comes early enough.
     *
     * @throws CriException.Unavailable once the bus is closed
     */
    public Subscription subscribe() {
        synchronized (lock) {
            if (closed) throw new CriException.Unavailable("container events: the daemon is shutting down", null);
            if (!holding && System.nanoTime() - backlogUntil >= 0) backlog.clear();
            var s = new Subscription(this, buffer, backlog);
            subscribers.add(s);
            interested = true;
            return s;
        }
    }

    void unsubscribe(Subscription s) {
        synchronized (lock) {
            subscribers.remove(s);
            interested = holding || !subscribers.isEmpty();
        }
    }

    /** How many subscribers there are now. */
    public int subscribers() {
        synchronized (lock) {
            return subscribers.size();
        }
    }

    /** Ends every stream (after the events it holds) and stops the dispatcher. */
    @Override
    public void close() {
        List<Subscription> all;
        synchronized (lock) {
            closed = true;
            interested = false;
            all = List.copyOf(subscribers);
            subscribers.clear();
            backlog.clear();
        }
        dispatcher.interrupt();
        all.forEach(s -> s.end(Subscription.End.SHUT_DOWN));
    }

    // ---------------------------------------------------------------- the dispatcher

    private void dispatch() {
        while (true) {
            Note n;
            try {
                n = pending.take();
            } catch (InterruptedException e) {
                return; // closed
            }
            if (n.described() != null) {
                n.described().countDown(); // open() waits for this
                continue;
            }
            if (lost) {
                lost = false;
                dropAll(pending.size() + 1);
            }
            deliver(describe(n), n.held());
        }
    }

    private void deliver(ContainerEventResponse e, boolean held) {
        List<Subscription> to;
        synchronized (lock) {
            if (closed) return;
            if (held) {
                if (backlog.size() == buffer) backlog.removeFirst();
                backlog.add(e);
            } else if (!backlog.isEmpty() && !holding && System.nanoTime() - backlogUntil >= 0) {
                backlog.clear();
            }
            to = List.copyOf(subscribers);
        }
        for (Subscription s : to) {
            if (!s.offer(e)) {
                if (s.ended().orElse(null) == Subscription.End.FELL_BEHIND) {
                    log.atWarn()
                            .addKeyValue("rpc", "GetContainerEvents")
                            .log("a container events subscriber fell {} events behind: dropped", s.capacity());
                }
                unsubscribe(s);
            }
        }
    }

    private void dropAll(int count) {
        List<Subscription> all;
        synchronized (lock) {
            all = List.copyOf(subscribers);
        }
        log.atWarn()
                .log(
                        "container events: {} transitions could not be described in time: every subscriber dropped",
                        count);
        for (Subscription s : all) {
            s.end(Subscription.End.FELL_BEHIND);
            unsubscribe(s);
        }
        List<Note> missed = new ArrayList<>();
        pending.drainTo(missed);
        missed.stream()
                .filter(m -> m.described() != null)
                .forEach(m -> m.described().countDown());
    }

    /**
     * The event of a note: the pod's status (the one noted for a pod's own event, else the current
     * one) and its containers' current statuses, with the noted container's own status as of its
     * transition (and without it once it is deleted).
     */
    private ContainerEventResponse describe(Note n) {
        var b = ContainerEventResponse.newBuilder()
                .setContainerId(n.containerId())
                .setContainerEventType(n.type())
                .setCreatedAt(n.at());
        try {
            Optional<PodSandboxStatus> pod =
                    n.pod() != null ? Optional.of(n.pod().get()) : pods.apply(n.sandboxId());
            pod.ifPresent(b::setPodSandboxStatus);
            boolean ownPlaced = false;
            for (ContainerStatus c : containers.apply(n.sandboxId())) {
                if (!c.getId().equals(n.containerId())) {
                    b.addContainersStatuses(c);
                } else if (n.container() != null) {
                    b.addContainersStatuses(n.container().get());
                    ownPlaced = true;
                } // else: a deleted container is not among its pod's containers
            }
            if (n.container() != null && !ownPlaced) {
                b.addContainersStatuses(n.container().get()); // noted before its pod's list had it
            }
        } catch (RuntimeException e) {
            // The pod went away meanwhile, or a record could not be read: the event still says what
            // happened to which container; its statuses are left for the kubelet's relist.
            log.atDebug()
                    .addKeyValue("containerId", n.containerId())
                    .log("describing a container event: {}", e.getMessage());
        }
        return b.build();
    }

    private static long nanos(Instant t) {
        return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }

    /**
     * A transition as noted: what, of which, when, and the snapshots taken at that moment; or, with
     * {@code described}, the mark {@link #open} waits for.
     */
    private record Note(
            ContainerEventType type,
            String containerId,
            String sandboxId,
            long at,
            Supplier<PodSandboxStatus> pod,
            Supplier<ContainerStatus> container,
            boolean held,
            CountDownLatch described) {}
}

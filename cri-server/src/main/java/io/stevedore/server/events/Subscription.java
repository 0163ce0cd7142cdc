package io.stevedore.server.events;

import io.stevedore.cri.v1.ContainerEventResponse;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One GetContainerEvents stream's events, in a buffer of its own that holds at most {@link
 * #capacity()} of them. The bus only ever adds to it without waiting; the stream takes them out
 * ({@link #poll}) as fast as its client reads. A subscriber that lets the buffer fill is dropped:
 * its buffer is emptied and it {@link #ended} {@link End#FELL_BEHIND}, so a client that stopped
 * reading costs a bounded amount of memory and never slows the lifecycle.
 *
 * <p>Thread-safe. {@link #onChange}'s callback runs on the bus's thread after every event and at
 * the end; it must not block.
 */
public final class Subscription implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Subscription.class);

    /** Why a stream ends. */
    public enum End {
        /** Its buffer was full when the next event came: the client did not read fast enough. */
        FELL_BEHIND,
        /** The daemon is shutting down. */
        SHUT_DOWN
    }

    private final EventBus bus;
    private final int capacity;
    private final ArrayDeque<ContainerEventResponse> queue = new ArrayDeque<>(); // guarded by this
    private End end; // guarded by this
    private boolean closed; // guarded by this: the subscriber left
    private volatile Runnable listener = () -> {};

    Subscription(EventBus bus, int capacity, Collection<ContainerEventResponse> backlog) {
        this.bus = bus;
        this.capacity = capacity;
        queue.addAll(backlog); // the bus keeps at most capacity of them
    }

    /** How many events the buffer holds before the subscriber is dropped. */
    public int capacity() {
        return capacity;
    }

    /** Runs {@code r} whenever there is something new to take: an event, or the end. */
    public void onChange(Runnable r) {
        listener = r;
        r.run(); // for what came before it was set
    }

    /** The oldest event not taken yet; null when there is none. */
    public synchronized ContainerEventResponse poll() {
        return queue.poll();
    }

    /** Why the stream ends, once every event before the end has been taken; empty while it goes on. */
    public synchronized Optional<End> ended() {
        return queue.isEmpty() ? Optional.ofNullable(end) : Optional.empty();
    }

    /** The subscriber leaves (its client went away): the bus forgets it. Idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            queue.clear();
        }
        bus.unsubscribe(this);
    }

    /**
     * From the bus: adds {@code e}, never waiting. Returns false when the subscription is over: it
     * left, it ended, or its buffer is full (then it ends {@link End#FELL_BEHIND} now).
     */
    boolean offer(ContainerEventResponse e) {
        boolean kept;
        synchronized (this) {
            if (closed || end != null) return false;
            kept = queue.size() < capacity;
            if (kept) {
                queue.add(e);
            } else {
                queue.clear(); // nothing more is sent to a subscriber that is dropped
                end = End.FELL_BEHIND;
            }
        }
        changed();
        return kept;
    }

    /** From the bus: the stream ends with {@code why} once what it holds has been taken. */
    void end(End why) {
        synchronized (this) {
            if (closed || end != null) return;
            if (why == End.FELL_BEHIND) queue.clear();
            end = why;
        }
        changed();
    }

    private void changed() {
        try {
            listener.run();
        } catch (RuntimeException e) {
            log.atWarn().setCause(e).log("a container events subscriber failed");
        }
    }
}

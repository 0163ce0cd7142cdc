package io.stevedore.server.container;

import io.stevedore.server.error.CriException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * One container in memory: its last stored record, and what is in progress on it (containerd's
 * {@code StatusStorage} with its {@code Starting} and {@code Removing} flags).
 *
 * <p>The lock guards the replacement of the record and the in-progress flags, and is held only for
 * that: never across a process spawn, a runtime call, a mount or a wait (issue 12). An operation
 * flips its flag under the lock ({@link #beginStart}, {@link #beginRemove}), does its slow work
 * without it, and commits the outcome with {@link #update}. Readers take the volatile record
 * without the lock and never wait for an operation.
 *
 * <pre>
 *   flags       set by          refused while                    waits while        cleared by
 *   starting    beginStart      starting, removing               updating           endStart
 *   removing    beginRemove     starting                         removing, updating endRemove
 *   updating    beginUpdate     removing                         starting, updating endUpdate
 * </pre>
 *
 * Stopping sets no flag: two stops may run together (both signal, both wait for the one exit).
 */
final class ContainerCell {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private volatile ContainerRecord record;
    private boolean starting; // guarded by lock
    private boolean removing; // guarded by lock
    private boolean removed; // guarded by lock
    private boolean updating; // guarded by lock

    /**
     * Set once an exit is recorded: the release of what the run held (runtime state, rootfs mount,
     * shim sockets), finishing in the background so StopContainer returns once the exit is stored.
     * RemoveContainer waits for it. Completes with whether the runtime state is gone.
     */
    volatile CompletableFuture<Boolean> released;

    private final Watch watch;

    /** Told of each committed change of state, under the lock, so in the order they happened. */
    interface Watch {
        Watch NONE = (before, after) -> {};

        void changed(ContainerRecord before, ContainerRecord after);
    }

    ContainerCell(ContainerRecord record) {
        this(record, Watch.NONE);
    }

    ContainerCell(ContainerRecord record, Watch watch) {
        this.record = record;
        this.watch = watch;
    }

    ContainerRecord record() {
        return record;
    }

    String id() {
        return record.id();
    }

    /** Applies {@code transition}, stores the result with {@code persist}, and publishes it. */
    ContainerRecord update(UnaryOperator<ContainerRecord.Status> transition, Consumer<ContainerRecord> persist) {
        lock.lock();
        try {
            var before = record;
            var next = before.withStatus(transition.apply(before.status()));
            persist.accept(next);
            record = next;
            changed.signalAll();
            if (before.status().state() != next.status().state()) watch.changed(before, next);
            return next;
        } finally {
            lock.unlock();
        }
    }

    /** {@link #update} when the current status passes {@code when}; returns whether it applied. */
    boolean updateIf(
            Predicate<ContainerRecord.Status> when,
            UnaryOperator<ContainerRecord.Status> transition,
            Consumer<ContainerRecord> persist) {
        lock.lock();
        try {
            if (!when.test(record.status())) return false;
            update(transition, persist);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Marks a start in progress; FAILED_PRECONDITION unless CREATED and nothing else is in progress. */
    void beginStart() {
        lock.lock();
        try {
            awaitNoUpdate("start"); // an update of a created container rewrites the bundle the start reads
            if (removing || removed) throw refused("start", "it is being removed");
            if (starting) throw refused("start", "it is already starting");
            var s = record.status();
            if (!s.canStart()) {
                throw refused("start", "it is " + ContainerRecord.stateName(s.state()) + ", not created");
            }
            starting = true;
        } finally {
            lock.unlock();
        }
    }

    void endStart() {
        lock.lock();
        try {
            starting = false;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits while a start is in progress (a stop must not miss a container that is about to run),
     * or until {@code gone}; the start itself is bounded by the shim's and runtime's timeouts.
     */
    void awaitNotStarting(BooleanSupplier gone) throws InterruptedException {
        lock.lock();
        try {
            while (starting && !gone.getAsBoolean()) {
                changed.await(50, TimeUnit.MILLISECONDS);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Marks a removal in progress. A removal already in progress is waited for; returns false when
     * it removed the container (nothing left to do). FAILED_PRECONDITION while a start is in progress,
     * as containerd answers.
     */
    boolean beginRemove() throws InterruptedException {
        lock.lock();
        try {
            if (starting) throw refused("remove", "it is starting");
            while (removing || updating) {
                changed.await();
            }
            if (removed) return false;
            removing = true;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Ends a removal: {@code gone} when the container no longer exists. */
    void endRemove(boolean gone) {
        lock.lock();
        try {
            removing = false;
            removed = gone;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Marks a resource update in progress (UpdateContainerResources), after waiting for a start or
     * another update to end: the update reads and rewrites the bundle's {@code config.json}, which
     * a start hands to the runtime, and a second update must start from the first one's result.
     * FAILED_PRECONDITION while it is being removed, as containerd answers.
     */
    void beginUpdate() {
        lock.lock();
        try {
            while (starting || updating) {
                awaitUninterrupted("update");
            }
            if (removing || removed) throw refused("update", "it is being removed");
            updating = true;
        } finally {
            lock.unlock();
        }
    }

    void endUpdate() {
        lock.lock();
        try {
            updating = false;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits, holding the lock, while an update runs; each is bounded by the runtime's timeout. */
    private void awaitNoUpdate(String action) {
        while (updating) {
            awaitUninterrupted(action);
        }
    }

    private void awaitUninterrupted(String action) {
        try {
            changed.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CriException.Unavailable(action + " container \"" + id() + "\": interrupted", e);
        }
    }

    /** Wakes the waiters on this container (an exit was recorded). */
    void signalChanged() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until {@code done} holds of the record, or {@code nanos} pass; returns whether it holds. */
    boolean await(Predicate<ContainerRecord> done, long nanos, BooleanSupplier gone) throws InterruptedException {
        long deadline = System.nanoTime() + nanos;
        lock.lock();
        try {
            while (!done.test(record)) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || gone.getAsBoolean()) return false;
                changed.awaitNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)));
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    private CriException refused(String action, String why) {
        return new CriException.FailedPrecondition(action + " container \"" + id() + "\": " + why);
    }
}

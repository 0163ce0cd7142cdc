package io.stevedore.server.sandbox;

import io.stevedore.server.error.CriException;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * One pod in memory: its metadata, which never changes, and its current {@link SandboxStatus},
 * which {@link SandboxStatus}'s transitions replace.
 *
 * <p>The lock guards the replacement of the status and nothing else: it is never held across a
 * process spawn, the pinner, CNI, the pause or the stop of the pod's containers (issue 12). An
 * operation flips its flag under it ({@link #begin}), does its slow work without it, and commits
 * the outcome under it ({@link #update}, {@link #updateAndCheckpoint}). Readers take the volatile
 * status without the lock, so PodSandboxStatus and ListPodSandbox never wait for an operation,
 * and see the pod as it is now: a pod whose stop is under way is already not ready.
 */
final class Sandbox {
    private final SandboxMetadata metadata;
    private final Consumer<SandboxRecord> checkpoint;
    private final Object lock = new Object(); // guards writes of status; waited on for an idle pod
    private volatile SandboxStatus status;
    private final Watch watch;

    /** Told of each change of state, under the lock, so in the order they happened. */
    interface Watch {
        void changed(SandboxMetadata pod, SandboxStatus before, SandboxStatus after);
    }

    /**
     * @param checkpoint stores a record (the {@link SandboxStore}'s write)
     * @param watch told of each change of state
     */
    Sandbox(SandboxMetadata metadata, SandboxStatus status, Consumer<SandboxRecord> checkpoint, Watch watch) {
        this.metadata = metadata;
        this.status = status;
        this.checkpoint = checkpoint;
        this.watch = watch;
    }

    String id() {
        return metadata.id();
    }

    SandboxMetadata metadata() {
        return metadata;
    }

    /** The current status; never waits. */
    SandboxStatus status() {
        return status;
    }

    SandboxRecord record() {
        return new SandboxRecord(metadata, status);
    }

    /** Applies {@code transition} in memory only: for the operation flags, which are never stored. */
    SandboxStatus update(UnaryOperator<SandboxStatus> transition) {
        synchronized (lock) {
            var before = status;
            status = transition.apply(before);
            lock.notifyAll();
            changed(before, status);
            return status;
        }
    }

    /**
     * Applies {@code transition}, stores the result and publishes it. It is published even when the
     * write fails: the status says what happened on the machine, and an operation's flag must not
     * outlive the operation. The exception then says that the stored record lags behind.
     */
    SandboxStatus updateAndCheckpoint(UnaryOperator<SandboxStatus> transition) {
        synchronized (lock) {
            var before = status;
            var next = transition.apply(before);
            try {
                checkpoint.accept(new SandboxRecord(metadata, next));
            } finally {
                status = next;
                lock.notifyAll();
                changed(before, next);
            }
            return next;
        }
    }

    private void changed(SandboxStatus before, SandboxStatus after) {
        if (before.state() != after.state()) watch.changed(metadata, before, after);
    }

    /**
     * Waits until no operation runs on the pod, then applies {@code begin} if {@code needed} holds.
     * The wait is how a second stop or remove of one pod waits for the first; it holds no lock.
     *
     * @return whether {@code begin} was applied; false when there is nothing to do (the operation
     *     that ran before did it)
     */
    boolean begin(Predicate<SandboxStatus> needed, UnaryOperator<SandboxStatus> begin) {
        synchronized (lock) {
            while (status.isBusy()) {
                try {
                    lock.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CriException.Unavailable(
                            "sandbox \"" + id() + "\": interrupted while waiting for an operation on it", e);
                }
            }
            if (!needed.test(status)) return false;
            status = begin.apply(status);
            return true;
        }
    }
}

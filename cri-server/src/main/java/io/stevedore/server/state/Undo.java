package io.stevedore.server.state;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * "Acquire, then register its undo" (containerd's deferred cleanups): each step that acquires
 * something pushes how to give it back; {@link #close} runs what was pushed, last first, unless
 * {@link #commit} said the whole operation succeeded. Every undo step runs even when one fails;
 * their failures are thrown together from {@code close}, and so arrive as suppressed exceptions of
 * the failure that caused the undo, never masking it.
 *
 * {@snippet :
 * try (var undo = new Undo()) {
 *     names.reserve(name, id);
 *     undo.push(() -> names.release(name, id));
 *     rootfs.mount(lowers, upper, work, target);
 *     undo.push(() -> rootfs.unmount(target));
 *     store.put(id, record);
 *     undo.commit();
 * }
 * }
 *
 * Not thread-safe: one operation, one thread.
 */
public final class Undo implements AutoCloseable {
    /** One undo step. */
    @FunctionalInterface
    public interface Action {
        void run() throws Exception;
    }

    private final Deque<Action> steps = new ArrayDeque<>();
    private boolean committed;

    /** Registers how to give back what was just acquired. */
    public void push(Action step) {
        steps.push(step);
    }

    /** The operation succeeded: keep everything. */
    public void commit() {
        committed = true;
        steps.clear();
    }

    /**
     * Runs the undo steps, last first, unless committed. The thread's interrupt status is cleared
     * while they run and restored after: an interrupted operation must still give back what it
     * holds, and a step that runs a process (the pinner's release) would otherwise fail at once.
     */
    @Override
    public void close() {
        if (committed) return;
        boolean interrupted = Thread.interrupted();
        IllegalStateException failed = null;
        while (!steps.isEmpty()) {
            try {
                steps.pop().run();
            } catch (Exception | Error e) {
                if (e instanceof InterruptedException) interrupted = true;
                if (failed == null) failed = new IllegalStateException("undo failed");
                failed.addSuppressed(e);
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        if (failed != null) throw failed;
    }
}

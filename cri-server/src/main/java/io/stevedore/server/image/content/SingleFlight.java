package io.stevedore.server.image.content;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * At most one run of a slow operation per key at a time (Go's {@code singleflight}): callers that
 * arrive while it runs wait for that run and share its result or its failure, so two pulls of
 * images that share a layer download and unpack it once. Thread-safe.
 *
 * <p>The run belongs to no caller: it runs on a thread of its own, and a caller that is interrupted
 * (a cancelled pull) stops waiting for itself only. Only when its last waiter has gone is the run
 * interrupted and forgotten, so that the next caller starts afresh; were it tied to the caller that
 * started it, cancelling that one pull would fail every other pull waiting on the same layer.
 *
 * @param <K> what identifies the work (a digest, a chain id)
 * @param <V> its result
 */
public final class SingleFlight<K, V> {
    private final String threadName;
    private final Object lock = new Object();
    /** Runs under way, by key. Guarded by {@code lock}, as is each run's waiter count. */
    private final Map<K, Run<V>> running = new HashMap<>();

    /** @param threadName prefix of the names of the threads runs go on (the key follows it) */
    public SingleFlight(String threadName) {
        this.threadName = threadName;
    }

    /** The work, which may fail with an I/O error. */
    @FunctionalInterface
    public interface Work<V> {
        V run() throws IOException, InterruptedException;
    }

    private static final class Run<V> {
        final CompletableFuture<V> result = new CompletableFuture<>();
        Thread thread;
        int waiters;
    }

    /**
     * Runs {@code work} for {@code key}, or joins the run already under way, and waits for it.
     *
     * @throws InterruptedException if this caller was interrupted; the run goes on for the others
     */
    public V run(K key, Work<V> work) throws IOException, InterruptedException {
        Run<V> run;
        synchronized (lock) {
            run = running.get(key);
            if (run == null) {
                Run<V> fresh = new Run<>();
                fresh.thread = Thread.ofVirtual().name(threadName + key).unstarted(() -> execute(key, fresh, work));
                running.put(key, fresh);
                fresh.thread.start();
                run = fresh;
            }
            run.waiters++;
        }
        try {
            return await(run.result);
        } finally {
            leave(key, run);
        }
    }

    /** How many callers wait for the run of {@code key} now (0 when none is under way). */
    public int waiters(K key) {
        synchronized (lock) {
            Run<V> run = running.get(key);
            return run == null ? 0 : run.waiters;
        }
    }

    private void execute(K key, Run<V> run, Work<V> work) {
        V value = null;
        Throwable failure = null;
        try {
            value = work.run();
        } catch (Throwable t) { // handed to every waiter; nothing escapes to the thread
            failure = t;
        }
        synchronized (lock) {
            // Forgotten before it completes: a caller arriving now starts a fresh run (which finds
            // the result in place) rather than being handed a failure that is already old.
            running.remove(key, run);
        }
        if (failure == null) {
            run.result.complete(value);
        } else {
            run.result.completeExceptionally(failure);
        }
    }

    private void leave(K key, Run<V> run) {
        synchronized (lock) {
            run.waiters--;
            if (run.waiters == 0 && !run.result.isDone()) {
                running.remove(key, run);
                run.thread.interrupt(); // nobody wants it any more: let it clean up and stop
            }
        }
    }

    private static <V> V await(CompletableFuture<V> f) throws IOException, InterruptedException {
        try {
            return f.get();
        } catch (ExecutionException e) {
            switch (e.getCause()) {
                case IOException io -> throw io;
                case InterruptedException ie -> throw new IOException("the shared operation was interrupted", ie);
                case RuntimeException re -> throw re;
                case Error err -> throw err;
                default -> throw new IOException(e.getCause());
            }
        }
    }
}

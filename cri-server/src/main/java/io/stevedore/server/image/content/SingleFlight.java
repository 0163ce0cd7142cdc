package io.stevedore.server.image.content;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;

/**
 * At most one run of a slow operation per key at a time (Go's {@code singleflight}): callers that
 * arrive while it runs wait for that run and share its result or its failure, so two pulls of
 * images that share a layer download and unpack it once. Thread-safe.
 *
 * @param <K> what identifies the work (a digest, a chain id)
 * @param <V> its result
 */
public final class SingleFlight<K, V> {
    private final Map<K, CompletableFuture<V>> running = new ConcurrentHashMap<>();

    /** The work, which may fail with an I/O error. */
    @FunctionalInterface
    public interface Work<V> {
        V run() throws IOException, InterruptedException;
    }

    /** Runs {@code work} for {@code key}, or joins the run already under way. */
    public V run(K key, Work<V> work) throws IOException, InterruptedException {
        var mine = new CompletableFuture<V>();
        var theirs = running.putIfAbsent(key, mine);
        if (theirs != null) {
            return await(theirs);
        }
        try {
            mine.complete(work.run());
        } catch (IOException | InterruptedException | RuntimeException e) {
            mine.completeExceptionally(e);
        } finally {
            running.remove(key, mine);
        }
        return await(mine);
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

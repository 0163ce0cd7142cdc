package io.stevedore.conformance.stream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The client side of one exec or attach session, whatever carries it (SPDY streams or WebSocket
 * channels): stdin, stdout, stderr, the error stream with the final status, and terminal resizes.
 * Streams that were not requested are null.
 */
public interface CommandStreams extends AutoCloseable {
    /** The negotiated protocol (X-Stream-Protocol-Version or WebSocket subprotocol). */
    String protocol();

    OutputStream stdin();

    InputStream stdout();

    InputStream stderr();

    /** The error stream (SPDY) or channel 3 (WebSocket): the status at the end. */
    InputStream error();

    /** Sends a terminal size (resize stream or channel 4): {@code {"Width":W,"Height":H}}. */
    void resize(int width, int height) throws IOException;

    /**
     * Tells the server stdin has ended: FIN on the SPDY stdin stream, the v5 CLOSE signal on a
     * WebSocket; unsupported (exception) where the protocol has no way to say it.
     */
    void closeStdin() throws IOException;

    /** Ends the session politely. */
    @Override
    void close();

    /** Drops the connection at once, as a dying client would. */
    void abort();

    /** What a session produced, each stream read to its end. */
    record Result(String stdout, String stderr, String error) {}

    /**
     * Reads stdout, stderr and the error stream concurrently to their ends (a finished command or
     * a closed connection) and returns them as UTF-8; {@code error} is null when the server reset
     * the SPDY error stream (what kubelet does on {@code channel.k8s.io}).
     */
    default Result collect() throws IOException {
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            CompletableFuture<String> out = read(pool, stdout());
            CompletableFuture<String> err = read(pool, stderr());
            CompletableFuture<String> e = read(pool, error()).exceptionally(x -> {
                // kubelet's v1 handler resets the error stream once the streams are set up
                if (x.getCause() instanceof java.io.UncheckedIOException u
                        && u.getCause() instanceof SpdyClient.StreamResetException) {
                    return null;
                }
                throw x instanceof RuntimeException r ? r : new java.util.concurrent.CompletionException(x);
            });
            return new Result(get(out), get(err), get(e));
        }
    }

    private static CompletableFuture<String> read(java.util.concurrent.ExecutorService pool, InputStream in) {
        if (in == null) {
            return CompletableFuture.completedFuture(null);
        }
        return CompletableFuture.supplyAsync(
                () -> {
                    try {
                        var b = new ByteArrayOutputStream();
                        in.transferTo(b);
                        return b.toString(StandardCharsets.UTF_8);
                    } catch (IOException x) {
                        throw new java.io.UncheckedIOException(x);
                    }
                },
                pool);
    }

    private static String get(CompletableFuture<String> f) throws IOException {
        try {
            return f.get(5, TimeUnit.MINUTES);
        } catch (ExecutionException x) {
            Throwable c = x.getCause();
            if (c instanceof java.io.UncheckedIOException u) {
                throw u.getCause();
            }
            throw new IOException(c);
        } catch (TimeoutException | InterruptedException x) {
            throw new IOException(x);
        }
    }
}

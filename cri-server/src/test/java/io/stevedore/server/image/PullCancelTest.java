package io.stevedore.server.image;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.server.image.registry.Credentials;
import io.stevedore.server.image.store.ImageRecord;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Cancelling one pull (the gRPC edge interrupts its thread) must not fail another one. */
class PullCancelTest {
    @TempDir
    Path state;

    PullFixture f;

    @BeforeEach
    void open() throws Exception {
        f = new PullFixture(state, 3);
    }

    @AfterEach
    void close() {
        f.close();
    }

    /** A pull on a thread of its own, as the gRPC edge runs it; interrupting the thread cancels it. */
    record Pull(Thread thread, CompletableFuture<ImageRecord> result) {}

    Pull start(String ref) {
        var result = new CompletableFuture<ImageRecord>();
        Thread t = Thread.ofVirtual().name("test-pull").start(() -> {
            try {
                result.complete(f.images.pull(ref, Credentials.anonymous()));
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        });
        return new Pull(t, result);
    }

    @Test
    void pull_otherPullSharingLayerCancelled_completes() throws Exception {
        byte[] shared = PullFixture.layer("base", "shared by both");
        var x = f.publish("team/x", List.of(shared, PullFixture.layer("x", "only x")));
        var y = f.publish("team/y", List.of(shared, PullFixture.layer("y", "only y")));
        String sharedBlob = x.layers().getFirst();
        String sharedChain = x.chains().getFirst();
        f.hold(sharedBlob);

        // given: X is downloading the shared layer, and Y waits for that same download
        Pull px = start(x.ref());
        await().atMost(Duration.ofSeconds(10)).until(() -> f.requests(sharedBlob) == 1);
        Pull py = start(y.ref());
        await().atMost(Duration.ofSeconds(10)).until(() -> f.snapshots.waiters(sharedChain) == 2);

        // when: X is cancelled
        px.thread().interrupt();

        // then: X ends now, while the layer is still held back, and Y still waits for it
        await().atMost(Duration.ofSeconds(10)).until(px.result()::isDone);
        var failure = assertInstanceOf(
                ExecutionException.class,
                org.junit.jupiter.api.Assertions.assertThrows(
                        ExecutionException.class, () -> px.result().get()));
        assertTrue(
                failure.getCause().getMessage().contains("cancelled"),
                failure.getCause().getMessage());
        assertEquals(1, f.snapshots.waiters(sharedChain));

        f.release(sharedBlob);
        ImageRecord r = py.result().get(30, TimeUnit.SECONDS);
        assertEquals(y.id(), r.id());
        assertTrue(f.complete(y), "every snapshot and blob of y is there");
        assertEquals(1, f.requests(sharedBlob), "the shared layer was downloaded once");
        py.thread().join(Duration.ofSeconds(10));
        px.thread().join(Duration.ofSeconds(10));
    }
}

package io.stevedore.server.image.content;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SingleFlightTest {
    final SingleFlight<String, String> flight = new SingleFlight<>("test-");
    final CountDownLatch release = new CountDownLatch(1);
    final CountDownLatch started = new CountDownLatch(1);
    final AtomicInteger runs = new AtomicInteger();

    @AfterEach
    void releaseWork() {
        release.countDown();
    }

    String slowWork() throws InterruptedException {
        runs.incrementAndGet();
        started.countDown();
        release.await();
        return "done";
    }

    record Caller(Thread thread, CompletableFuture<String> result) {}

    Caller call(SingleFlight.Work<String> work) {
        var result = new CompletableFuture<String>();
        Thread t = Thread.ofPlatform().name("caller").start(() -> {
            try {
                result.complete(flight.run("k", work));
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        });
        return new Caller(t, result);
    }

    @Test
    void run_firstCallerInterrupted_secondStillGetsTheResult() throws Exception {
        Caller first = call(this::slowWork);
        started.await();
        Caller second = call(this::slowWork);
        await().atMost(Duration.ofSeconds(10)).until(() -> second.thread().getState() == Thread.State.WAITING);

        first.thread().interrupt();
        var e = assertThrows(ExecutionException.class, () -> first.result().get(10, TimeUnit.SECONDS));
        assertInstanceOf(InterruptedException.class, e.getCause(), "the first caller stops waiting for itself");

        release.countDown();
        assertEquals("done", second.result().get(10, TimeUnit.SECONDS));
        assertEquals(1, runs.get(), "one run shared by both");
        second.thread().join();
    }

    @Test
    void run_lastCallerInterrupted_runIsInterruptedAndNextCallerStartsAfresh() throws Exception {
        var stopped = new CountDownLatch(1);
        Caller only = call(() -> {
            started.countDown();
            try {
                new CountDownLatch(1).await(); // never released: only an interrupt ends it
                return "never";
            } finally {
                stopped.countDown();
            }
        });
        started.await();
        await().atMost(Duration.ofSeconds(10)).until(() -> flight.waiters("k") == 1);

        only.thread().interrupt();

        assertThrows(ExecutionException.class, () -> only.result().get(10, TimeUnit.SECONDS));
        assertEquals(true, stopped.await(10, TimeUnit.SECONDS), "the run was interrupted");
        assertEquals(0, flight.waiters("k"));
        assertEquals("fresh", flight.run("k", () -> "fresh"));
    }
}

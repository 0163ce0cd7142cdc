package io.stevedore.conformance;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.stevedore.conformance.registry.BusyboxImage;
import io.stevedore.conformance.registry.TestImages;
import io.stevedore.conformance.registry.TestRegistry;
import io.stevedore.cri.v1.ImageSpec;
import io.stevedore.cri.v1.PullImageRequest;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Issue 13, Done-when 2: an operator's busy node, with the daemon SIGKILLed at a random moment.
 * In each of 20 rounds 8 workers start pods one after another (a pod, a container, its start; the
 * pods of half the workers share one PID namespace, so they get a pause), the daemon is killed
 * while the calls are under way, and restarted over the same state. After each restart no container is lost (its StartContainer
 * returned OK but it is not listed running) and none is a ghost (its process runs but it is not
 * listed running). At the end every pod and image is removed and nothing is left behind.
 *
 * <p>The moment is random but tied to the calls, not to a clock: the kill is sent as the k-th
 * call of the round goes out (k drawn anew each round between 8 and 56, about two pods per worker,
 * from a seed printed for a rerun).
 */
@RequiresRoot
class RandomKillIT {
    static final int ROUNDS = Integer.getInteger("crash.rounds", 20);
    static final int PODS = 8;
    static final int CALLS_PER_POD = 3;

    @Test
    void twentyRoundsOfEightPodsWithTheDaemonKilledAtRandom_noContainerLostNoGhostNothingLeft() throws Exception {
        long seed = Long.getLong("crash.seed", System.nanoTime());
        System.out.println("RandomKillIT seed " + seed + " (rerun with -Dcrash.seed=" + seed + ")");
        var random = new Random(seed);
        try (var registry = TestRegistry.start();
                var fx = new CrashFixture(
                        Files.createTempDirectory("sd-rk-"), new BridgeNetwork("sdrk", "sdrk0", "10.124.0.0/22"))) {
            String image = BusyboxImage.push(new TestImages(registry), "test/busybox", "1")
                    .reference();
            fx.start(Map.of());
            fx.images()
                    .pullImage(PullImageRequest.newBuilder()
                            .setImage(ImageSpec.newBuilder().setImage(image))
                            .build());
            List<String> lost = new ArrayList<>();
            List<String> ghosts = new ArrayList<>();
            int started = 0;
            for (int round = 0; round < ROUNDS; round++) {
                Set<String> startedOk = round(fx, image, round, PODS + random.nextInt(2 * PODS * CALLS_PER_POD));
                started += startedOk.size();
                fx.start(Map.of());
                fx.awaitServing();
                Set<String> running = fx.running();
                startedOk.stream().filter(id -> !running.contains(id)).forEach(id -> lost.add(id));
                ghosts.addAll(fx.ghosts());
            }
            fx.removeEverything();
            var leaks = fx.leaks();
            System.out.printf(
                    "RandomKillIT: %d rounds, %d containers started OK; lost %d, ghosts %d; leaks %s%n",
                    ROUNDS, started, lost.size(), ghosts.size(), LeakCensus.counts(leaks));
            assertAll(
                    () -> assertEquals(List.of(), lost, "containers started OK but not running after a restart"),
                    () -> assertEquals(List.of(), ghosts, "container processes not listed as running"),
                    () -> assertEquals(Map.of(), LeakCensus.counts(leaks), "left behind: " + leaks),
                    () -> assertEquals(0, fx.terminate(), "the daemon stops cleanly"));
        }
    }

    /**
     * One round: {@link #PODS} workers each run a pod, create a container and start it, again and
     * again; the daemon is killed as call number {@code killAt} (from 0) goes out, which ends them
     * all. Returns the containers whose start returned OK.
     */
    private static Set<String> round(CrashFixture fx, String image, int round, int killAt) throws Exception {
        Set<String> startedOk = ConcurrentHashMap.newKeySet();
        var failures = new java.util.concurrent.ConcurrentSkipListMap<String, Integer>();
        var calls = new AtomicInteger();
        var killNow = new CountDownLatch(1);
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            var killer = pool.submit(() -> {
                killNow.await();
                fx.kill();
                return null;
            });
            var workers = new ArrayList<java.util.concurrent.Future<?>>();
            for (int w = 0; w < PODS; w++) {
                int worker = w;
                workers.add(pool.submit(() -> {
                    try {
                        for (int n = 0; ; n++) {
                            var cfg = fx.podConfig("r" + round + "w" + worker + "n" + n, worker % 2 == 0);
                            call(calls, killAt, killNow);
                            String pod = fx.runPod(cfg);
                            call(calls, killAt, killNow);
                            String c = fx.createSleeper(pod, cfg, "c", image);
                            call(calls, killAt, killNow);
                            fx.start(c);
                            startedOk.add(c);
                        }
                    } catch (RuntimeException e) {
                        if (!CrashFixture.isUnavailable(e)) throw e;
                        failures.merge(String.valueOf(e.getMessage()), 1, Integer::sum);
                    }
                    return null;
                }));
            }
            try {
                // Every worker ends: with its pod started, or with a call that the kill failed.
                for (var f : workers) f.get(120, TimeUnit.SECONDS);
            } finally {
                killNow.countDown(); // a worker failed otherwise: end the round
                killer.get(60, TimeUnit.SECONDS);
            }
        }
        System.out.printf(
                "round %d: killed at call %d; %d started; calls cut: %s%n", round, killAt, startedOk.size(), failures);
        return startedOk;
    }

    /** Counts a call about to go out; the {@code killAt}-th sends the kill with it. */
    private static void call(AtomicInteger calls, int killAt, CountDownLatch killNow) {
        if (calls.getAndIncrement() == killAt) killNow.countDown();
    }
}

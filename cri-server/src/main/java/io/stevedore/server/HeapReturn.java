package io.stevedore.server;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives heap back to the system after a burst. A burst of large requests (sixteen 16 MiB
 * messages, 16 MiB ExecSync answers) grows the heap toward {@code -Xmx}; the serial collector the
 * daemon runs with shrinks the heap only at a full collection, and a mostly idle daemon never
 * has one, so without this its RSS stayed 300 MB above where it started (issue 11).
 *
 * <p>Every {@code period}, when the committed heap is over {@code floor}, one full collection runs
 * ({@code System.gc()}: ~20 ms on the daemon's heap of metadata) if the heap has grown half again
 * since the last one, or if the last one is {@link #BACKOFF_MIN} old; with {@code
 * -XX:-ShrinkHeapInSteps -XX:MaxHeapFreeRatio=40} (bin/stevedore) it returns the free part at once.
 * What the heap "uses" cannot tell a burst from live data (the burst's dead arrays sit in the old
 * generation until a full collection), hence growth and age as the triggers. A collection made
 * while a burst was still live returns little; the age trigger comes back for what it left. One
 * that returns nothing (the live data is that big) doubles the wait before the next, up to {@link
 * #BACKOFF_MAX}, so a big live heap is not collected every period. Memory the C
 * library keeps after direct buffers are freed goes back through the JVM's own {@code
 * -XX:TrimNativeHeapInterval}.
 */
final class HeapReturn implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HeapReturn.class);

    private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    private final long floor;
    private long committedAfterLast;
    private long lastAt = System.nanoTime();
    private Duration backoff = BACKOFF_MIN;

    static final Duration BACKOFF_MIN = Duration.ofSeconds(30);
    static final Duration BACKOFF_MAX = Duration.ofMinutes(10);
    private final Thread thread;

    private HeapReturn(Duration period, long floor) {
        this.floor = floor;
        this.thread = Thread.ofPlatform().daemon().name("heap-return").unstarted(() -> run(period));
    }

    /** Starts the check; {@link #close} stops it. */
    static HeapReturn start(Duration period, long floorBytes) {
        var h = new HeapReturn(period, floorBytes);
        h.thread.start();
        return h;
    }

    private void run(Duration period) {
        try {
            while (true) {
                Thread.sleep(period);
                checkOnce();
            }
        } catch (InterruptedException e) {
            // closed
        }
    }

    /** One check; true if it collected. */
    boolean checkOnce() {
        long committed = memory.getHeapMemoryUsage().getCommitted();
        long now = System.nanoTime();
        boolean grown = committed > committedAfterLast + committedAfterLast / 2;
        boolean due = now - lastAt >= backoff.toNanos();
        if (committed <= floor || !(grown || due)) {
            return false;
        }
        System.gc();
        committedAfterLast = memory.getHeapMemoryUsage().getCommitted();
        lastAt = now;
        boolean returned = committedAfterLast < committed - committed / 10;
        backoff = returned
                ? BACKOFF_MIN
                : backoff.multipliedBy(2).compareTo(BACKOFF_MAX) > 0 ? BACKOFF_MAX : backoff.multipliedBy(2);
        log.atDebug()
                .addKeyValue("committedBefore", committed)
                .addKeyValue("committedAfter", committedAfterLast)
                .log("returned unused heap after a burst");
        return true;
    }

    @Override
    public void close() {
        thread.interrupt();
    }
}

package io.stevedore.server.image.registry;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A response body that fails when a read makes no progress for {@code timeout}: a watchdog closes
 * the underlying stream (for an HttpClient body that cancels the exchange and wakes the blocked
 * reader) and the read then throws. Time the caller spends between reads does not count. Like
 * containerd's per-read deadline, this catches a registry that stalls mid-blob without capping how
 * long a large blob may take.
 */
final class NoProgressInputStream extends FilterInputStream {
    private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().daemon().name("registry-body-watchdog").unstarted(r));

    private final long timeoutNanos;
    private final String what;
    private final ScheduledFuture<?> check;
    private volatile long readStartedAt; // 0 while no read is pending
    private volatile boolean timedOut;

    NoProgressInputStream(InputStream in, Duration timeout, String what) {
        super(in);
        this.timeoutNanos = timeout.toNanos();
        this.what = what;
        long period = Math.max(timeoutNanos / 4, TimeUnit.MILLISECONDS.toNanos(5));
        this.check = WATCHDOG.scheduleAtFixedRate(this::check, period, period, TimeUnit.NANOSECONDS);
    }

    private void check() {
        long started = readStartedAt;
        if (started != 0 && System.nanoTime() - started >= timeoutNanos) {
            timedOut = true;
            check.cancel(false);
            try {
                in.close();
            } catch (IOException | RuntimeException e) {
                // the reader gets the timeout either way
            }
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (timedOut) {
            throw timeout(null);
        }
        readStartedAt = System.nanoTime();
        int n;
        try {
            n = in.read(b, off, len);
        } catch (IOException e) {
            if (timedOut) {
                throw timeout(e);
            }
            throw e;
        } finally {
            readStartedAt = 0;
        }
        if (timedOut) {
            throw timeout(null);
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        byte[] buf = new byte[(int) Math.min(n, 8192)];
        long done = 0;
        while (done < n) {
            int r = read(buf, 0, (int) Math.min(buf.length, n - done));
            if (r < 0) {
                break;
            }
            done += r;
        }
        return done;
    }

    private IOException timeout(IOException cause) {
        return new IOException(
                what + ": no data for " + Duration.ofNanos(timeoutNanos).toMillis() + " ms, gave up", cause);
    }

    @Override
    public void close() throws IOException {
        check.cancel(false);
        super.close();
    }
}

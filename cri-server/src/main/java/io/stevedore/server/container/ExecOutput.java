package io.stevedore.server.container;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How much ExecSync output the daemon keeps in memory (issue 11: sixteen 16 MiB answers at once
 * had taken its RSS from 105 to 501 MB). One call keeps at most {@code perCall} bytes of stdout
 * and stderr together, so its answer fits the kubelet's 16 MiB message limit; all calls in flight
 * keep at most {@code total}. Past either bound the rest of the output is read and dropped (the
 * process never blocks on a full pipe), and each stream that was cut ends with {@link #marker}.
 *
 * <p>Output is kept in 64 KiB chunks and handed to the answer as one rope {@link ByteString}: no
 * doubling buffer, no copy.
 */
public final class ExecOutput {
    private static final int CHUNK = 64 << 10;

    private final int perCall;
    private final long total;
    private final AtomicLong used = new AtomicLong();

    /**
     * @param perCall bytes of stdout and stderr together one call keeps
     * @param total bytes all calls in flight keep together
     */
    public ExecOutput(int perCall, long total) {
        if (perCall < 1 || total < perCall) {
            throw new IllegalArgumentException("perCall " + perCall + ", total " + total);
        }
        this.perCall = perCall;
        this.total = total;
    }

    /** The line a cut stream ends with. */
    static String marker(long kept) {
        return "\n[stevedore: output truncated after " + kept + " bytes]\n";
    }

    /** Bytes held by calls in flight, for tests and metrics. */
    long used() {
        return used.get();
    }

    /** The budget of one ExecSync call; close it once the answer is built. */
    Call open() {
        return new Call();
    }

    /** One call's share: its two streams draw on it. */
    final class Call implements AutoCloseable {
        private long left = perCall;
        private long taken;

        /** Grants up to {@code n} bytes, possibly fewer (then the stream is cut). */
        synchronized int take(int n) {
            long want = Math.min(n, left);
            long got = 0;
            while (want > 0) {
                long u = used.get();
                got = Math.min(want, total - u);
                if (got <= 0) {
                    got = 0;
                    break;
                }
                if (used.compareAndSet(u, u + got)) break;
            }
            left -= got;
            taken += got;
            return (int) got;
        }

        Stream stream() {
            return new Stream(this);
        }

        @Override
        public synchronized void close() {
            used.addAndGet(-taken);
            taken = 0;
            left = 0;
        }
    }

    /** One stream of one call: appended to by its reader, then read once. */
    static final class Stream {
        private final Call call;
        private final List<ByteString> chunks = new ArrayList<>();
        private byte[] chunk;
        private int fill;
        private long kept;
        private boolean cut;

        Stream(Call call) {
            this.call = call;
        }

        /** Keeps what the budget grants of {@code b[off, off+n)}; drops the rest. */
        synchronized void append(byte[] b, int off, int n) {
            int granted = cut ? 0 : call.take(n);
            if (granted < n) cut = true;
            kept += granted;
            while (granted > 0) {
                if (chunk == null) {
                    chunk = new byte[CHUNK];
                    fill = 0;
                }
                int k = Math.min(granted, CHUNK - fill);
                System.arraycopy(b, off, chunk, fill, k);
                fill += k;
                off += k;
                granted -= k;
                if (fill == CHUNK) flush();
            }
        }

        private void flush() {
            if (chunk != null && fill > 0) {
                chunks.add(UnsafeByteOperations.unsafeWrap(chunk, 0, fill));
            }
            chunk = null;
        }

        /** Everything kept, with the marker if the stream was cut. */
        synchronized ByteString bytes() {
            flush();
            if (cut) {
                chunks.add(ByteString.copyFrom(marker(kept), StandardCharsets.UTF_8));
                cut = false;
            }
            return ByteString.copyFrom(chunks); // a balanced rope over the chunks: no bytes copied
        }
    }
}

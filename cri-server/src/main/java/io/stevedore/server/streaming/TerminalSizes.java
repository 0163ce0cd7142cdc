package io.stevedore.server.streaming;

import java.util.Optional;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;

/**
 * Terminal sizes from the client's resize stream, newest wins: a burst while the runtime is busy
 * collapses to the last size. Ends with {@link #close}.
 */
public final class TerminalSizes {
    /** A terminal size in character cells. */
    public record Size(int width, int height) {}

    private static final Size END = new Size(-1, -1);
    private final LinkedBlockingDeque<Size> sizes = new LinkedBlockingDeque<>(16);

    void offer(Size s) {
        if (s.width() < 0 || s.height() < 0 || s.width() > 0xffff || s.height() > 0xffff) {
            return;
        }
        while (!sizes.offerLast(s)) {
            sizes.pollFirst(); // full: the oldest is stale anyway
        }
    }

    void close() {
        sizes.clear();
        sizes.offerLast(END);
    }

    /** The next size, waiting for one; empty once the stream ended. */
    public Optional<Size> next() throws InterruptedException {
        Size s = sizes.takeFirst();
        Size newer;
        while ((newer = sizes.pollFirst()) != null) {
            s = newer;
        }
        if (s == END) {
            sizes.offerFirst(END);
            return Optional.empty();
        }
        return Optional.of(s);
    }

    /** The next size if one arrives within {@code millis} (the first one, sent right after connecting). */
    public Optional<Size> poll(long millis) throws InterruptedException {
        Size s = sizes.pollFirst(millis, TimeUnit.MILLISECONDS);
        if (s == null || s == END) {
            if (s == END) {
                sizes.offerFirst(END);
            }
            return Optional.empty();
        }
        return Optional.of(s);
    }
}

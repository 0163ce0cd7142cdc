package io.stevedore.server.streaming;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Bytes a client sends on one stream (stdin, a port-forward's data, resize messages), handed from
 * the connection's event loop to a blocking reader. The event loop never blocks: it queues the
 * chunk, and when a connection has more than {@link #HIGH_WATER} bytes queued over all its pipes it
 * stops reading from the socket (TCP then pushes back on the client) until readers drained it below
 * {@link #LOW_WATER}. That is the only flow control a kubelet-compatible client honours: spdystream
 * ignores SPDY's WINDOW_UPDATE.
 *
 * <p>One writer (the event loop) and one reader thread.
 */
final class InboundPipe extends InputStream {
    static final long HIGH_WATER = 1 << 20;
    static final long LOW_WATER = 256 << 10;

    private final Throttle throttle;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    // guarded by lock
    private final ArrayDeque<ByteBuf> chunks = new ArrayDeque<>(); // each retained here, released when read
    private boolean eof;
    private String failure;

    InboundPipe(Throttle throttle) {
        this.throttle = throttle;
    }

    /** Queues a chunk (event loop), taking over the caller's reference. Dropped after the end. */
    void offer(ByteBuf chunk) {
        int n = chunk.readableBytes();
        if (n == 0) {
            chunk.release();
            return;
        }
        lock.lock();
        try {
            if (eof || failure != null) {
                chunk.release();
                return;
            }
            chunks.add(chunk);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        throttle.added(n);
    }

    /** The client closed this stream: readers see EOF after what is queued. */
    void finish() {
        lock.lock();
        try {
            eof = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The connection is gone: readers fail at once, queued bytes are dropped. */
    void fail(String why) {
        long dropped = 0;
        lock.lock();
        try {
            if (failure == null) {
                failure = why;
            }
            for (ByteBuf c : chunks) {
                dropped += c.readableBytes();
                c.release();
            }
            chunks.clear();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        throttle.consumed(dropped);
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        int n = 0;
        lock.lock();
        try {
            awaitData();
            while (n < len && !chunks.isEmpty()) {
                ByteBuf head = chunks.peek();
                int k = Math.min(len - n, head.readableBytes());
                head.readBytes(b, off + n, k);
                n += k;
                if (!head.isReadable()) {
                    chunks.poll().release();
                }
            }
            if (n == 0) {
                return -1; // eof and drained
            }
        } finally {
            lock.unlock();
        }
        throttle.consumed(n);
        return n;
    }

    /**
     * The next chunk as it arrived, without a copy: the caller owns (and releases) it. Null at the
     * end of the stream.
     */
    ByteBuf readChunk() throws IOException {
        ByteBuf c;
        lock.lock();
        try {
            awaitData();
            c = chunks.poll();
        } finally {
            lock.unlock();
        }
        if (c != null) {
            throttle.consumed(c.readableBytes());
        }
        return c;
    }

    /** With the lock held: waits until a chunk is queued or the stream ended; throws if it failed. */
    private void awaitData() throws IOException {
        try {
            while (chunks.isEmpty() && !eof && failure == null) {
                changed.await();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted reading a client stream");
        }
        if (failure != null) {
            throw new IOException(failure);
        }
    }

    /**
     * Per connection: bytes queued in its pipes, and the socket's auto-read switched off above the
     * high-water mark and on again below the low one.
     */
    static final class Throttle {
        private final Channel channel;
        private final AtomicLong queued = new AtomicLong();
        /**
         * Whether reading is switched off: readers wake the event loop only then, not after every
         * chunk. Set before {@code queued} is looked at again, and read after {@code queued} changed,
         * so a reader that drains everything while reading is being switched off is never missed.
         */
        private volatile boolean paused;

        Throttle(Channel channel) {
            this.channel = channel;
        }

        /** Called on the event loop. */
        void added(long n) {
            if (queued.addAndGet(n) > HIGH_WATER && !paused) {
                paused = true;
                channel.config().setAutoRead(false);
                resumeIfDrained(); // the readers may have emptied the pipes meanwhile
            }
        }

        void consumed(long n) {
            if (n > 0 && queued.addAndGet(-n) < LOW_WATER && paused) {
                channel.eventLoop().execute(this::resumeIfDrained);
            }
        }

        /** On the event loop. */
        private void resumeIfDrained() {
            if (paused && queued.get() < LOW_WATER) {
                paused = false;
                channel.config().setAutoRead(true);
            }
        }
    }
}

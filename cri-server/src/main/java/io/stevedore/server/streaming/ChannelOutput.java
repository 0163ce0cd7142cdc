package io.stevedore.server.streaming;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Bytes for the client on one stream (stdout, stderr, error, a port-forward's data), written by a
 * blocking thread into the connection. Each write becomes one protocol frame ({@code frame});
 * after it the writer waits while the channel is not writable (Netty's outbound buffer above its
 * high-water mark), so a slow client slows the process writing, not the daemon's heap.
 *
 * <p>Writes from one thread at a time; {@link #close} may come from any thread.
 */
final class ChannelOutput extends OutputStream {
    private final Channel channel;
    private final io.netty.channel.ChannelOutboundInvoker target;
    private final Gate gate;
    private final Function<ByteBuf, Object> frame;
    private final Supplier<Object> end;
    private volatile boolean closed;

    /**
     * @param frame wraps a chunk into what the pipeline writes (a SPDY data frame, a WebSocket frame)
     * @param end the frame that tells the client this stream ended, or null if the protocol has none
     */
    ChannelOutput(Channel channel, Gate gate, Function<ByteBuf, Object> frame, Supplier<Object> end) {
        this(channel, channel, gate, frame, end);
    }

    /**
     * @param target where frames are written: the channel, or a handler's context when frames are
     *     already encoded and must skip the handlers after it
     */
    ChannelOutput(
            Channel channel,
            io.netty.channel.ChannelOutboundInvoker target,
            Gate gate,
            Function<ByteBuf, Object> frame,
            Supplier<Object> end) {
        this.channel = channel;
        this.target = target;
        this.gate = gate;
        this.frame = frame;
        this.end = end;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        ByteBuf buf = channel.alloc().buffer(len);
        buf.writeBytes(b, off, len);
        write(buf);
    }

    /** Writes a chunk without copying it; takes over the caller's reference. */
    void write(ByteBuf buf) throws IOException {
        if (closed || !channel.isActive()) {
            buf.release();
            throw new IOException(closed ? "stream closed" : "client went away");
        }
        target.writeAndFlush(frame.apply(buf), target.voidPromise());
        gate.awaitWritable();
    }

    Channel channel() {
        return channel;
    }

    /** Ends the stream for the client (once); later writes fail. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (end != null && channel.isActive()) {
            target.writeAndFlush(end.get(), target.voidPromise());
        }
    }

    /** Per connection: blocks writers while the channel is not writable; opened by the handler. */
    static final class Gate {
        private final Channel channel;
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition open = lock.newCondition();

        Gate(Channel channel) {
            this.channel = channel;
        }

        void awaitWritable() throws IOException {
            if (channel.isWritable()) {
                return;
            }
            lock.lock();
            try {
                while (!channel.isWritable()) {
                    if (!channel.isActive()) {
                        throw new IOException("client went away");
                    }
                    open.await(1, TimeUnit.SECONDS); // signalled; the timeout only re-checks a closed channel
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted writing to a client");
            } finally {
                lock.unlock();
            }
        }

        /** From the handler's channelWritabilityChanged and channelInactive. */
        void signal() {
            lock.lock();
            try {
                open.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }
}

package io.stevedore.conformance.stream;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A WebSocket client for the streaming server's WebSocket protocols: whole messages (fragments
 * are joined) in and out, the negotiated subprotocol, pings answered. What the messages mean (the
 * channel byte of {@code channel.k8s.io} and its relatives) is {@link WsChannels}' business.
 *
 * {@snippet :
 * try (var ws = WsClient.connect(URI.create(url), List.of("v5.channel.k8s.io"))) {
 *   WsClient.Message m = ws.receive(); // null once the server has closed
 * }
 * }
 */
public final class WsClient implements AutoCloseable {
    private static final int MAX_MESSAGE = 64 << 20;
    private static final long PAUSE_READING_AT = 8L << 20;
    private static final long RESUME_READING_AT = 2L << 20;
    private static final Object CLOSED = new Object();

    private final Channel channel;
    private final String subprotocol;
    private final BlockingQueue<Object> incoming;
    private final AtomicLong buffered;
    private volatile Duration timeout = Duration.ofSeconds(60);
    private volatile int closeCode = -1;
    private volatile String closeReason;
    private boolean sawEnd;

    /** One message from the server: text or binary, its payload. */
    public record Message(boolean text, byte[] data) {
        public String asText() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    private WsClient(Channel channel, String subprotocol, BlockingQueue<Object> incoming, AtomicLong buffered) {
        this.channel = channel;
        this.subprotocol = subprotocol;
        this.incoming = incoming;
        this.buffered = buffered;
    }

    /**
     * Opens a WebSocket to {@code url} (the {@code http://} URL the daemon returned, or a {@code
     * ws://} one) offering {@code subprotocols} in order of preference.
     *
     * @throws UpgradeFailedException when the server does not answer 101
     */
    public static WsClient connect(URI url, List<String> subprotocols) throws IOException {
        var queue = new LinkedBlockingQueue<Object>();
        var buffered = new AtomicLong();
        var holder = new WsClient[1];
        var opened = WsHandshake.open(url, subprotocols, MAX_MESSAGE, p -> {
            p.addLast("ws-aggregator", new WebSocketFrameAggregator(MAX_MESSAGE));
            p.addLast("ws-client", new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    try {
                        switch (msg) {
                            case BinaryWebSocketFrame f -> add(ctx, new Message(false, bytes(f)));
                            case TextWebSocketFrame f -> add(ctx, new Message(true, bytes(f)));
                            case PingWebSocketFrame f ->
                                ctx.writeAndFlush(
                                        new PongWebSocketFrame(f.content().retain()));
                            case CloseWebSocketFrame f -> {
                                if (holder[0] != null) {
                                    holder[0].closeCode = f.statusCode();
                                    holder[0].closeReason = f.reasonText();
                                }
                                if (ctx.channel().isActive()) {
                                    ctx.writeAndFlush(new CloseWebSocketFrame(
                                                    f.statusCode() == -1 ? 1000 : f.statusCode(), ""))
                                            .addListener(x -> ctx.close());
                                }
                                queue.add(CLOSED);
                            }
                            default -> {}
                        }
                    } finally {
                        ReferenceCountUtil.release(msg);
                    }
                }

                private void add(ChannelHandlerContext ctx, Message m) {
                    if (buffered.addAndGet(m.data().length) > PAUSE_READING_AT) {
                        ctx.channel().config().setAutoRead(false);
                    }
                    queue.add(m);
                }

                @Override
                public void channelInactive(ChannelHandlerContext ctx) {
                    queue.add(CLOSED);
                    ctx.fireChannelInactive();
                }

                @Override
                public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                    queue.add(new IOException("WebSocket failed", cause));
                    ctx.close();
                }
            });
        });
        var c = new WsClient(opened.channel(), opened.subprotocol(), queue, buffered);
        holder[0] = c;
        return c;
    }

    private static byte[] bytes(WebSocketFrame f) {
        byte[] b = new byte[f.content().readableBytes()];
        f.content().readBytes(b);
        return b;
    }

    /** The subprotocol the server chose (null when it chose none). */
    public String subprotocol() {
        return subprotocol;
    }

    public WsClient timeout(Duration t) {
        this.timeout = t;
        return this;
    }

    public Duration timeout() {
        return timeout;
    }

    /**
     * The next message; null once the server has closed the WebSocket (close frame or connection
     * end) and every earlier message was read.
     *
     * @throws SocketTimeoutException when nothing arrives within {@link #timeout()}
     */
    public Message receive() throws IOException {
        return receive(timeout.toMillis());
    }

    /** As {@link #receive()}, waiting at most {@code millis}. */
    public Message receive(long millis) throws IOException {
        if (sawEnd) {
            return null;
        }
        Object o;
        try {
            o = incoming.poll(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException();
        }
        if (o == null) {
            throw new SocketTimeoutException("no WebSocket message within " + timeout);
        }
        if (o == CLOSED) {
            sawEnd = true;
            return null;
        }
        if (o instanceof IOException e) {
            sawEnd = true;
            throw e;
        }
        Message m = (Message) o;
        if (buffered.addAndGet(-m.data().length) < RESUME_READING_AT
                && !channel.config().isAutoRead()) {
            channel.config().setAutoRead(true);
        }
        return m;
    }

    /** The close code of the server's close frame; -1 when there was none (yet). */
    public int closeCode() {
        return closeCode;
    }

    public String closeReason() {
        return closeReason;
    }

    public boolean isOpen() {
        return channel.isActive();
    }

    /** Sends one binary message. */
    public void sendBinary(byte[] data) throws IOException {
        send(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(data)));
    }

    /** Sends one text message. */
    public void sendText(String text) throws IOException {
        send(new TextWebSocketFrame(text));
    }

    private void send(WebSocketFrame frame) throws IOException {
        ChannelFuture f = channel.writeAndFlush(frame);
        if (!channel.isWritable() || f.isDone()) {
            try {
                if (!f.await(timeout.toMillis())) {
                    throw new SocketTimeoutException("WebSocket message not written within " + timeout);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException();
            }
            if (!f.isSuccess()) {
                throw new IOException("cannot send a WebSocket message", f.cause());
            }
        }
    }

    /** Closes politely: a close frame (1000), then the connection. */
    @Override
    public void close() {
        if (channel.isActive()) {
            channel.writeAndFlush(new CloseWebSocketFrame(1000, "")).awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /** Drops the TCP connection at once, as a client that dies would. */
    public void abort() {
        channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}

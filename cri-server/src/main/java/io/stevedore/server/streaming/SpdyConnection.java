package io.stevedore.server.streaming;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.spdy.DefaultSpdyRstStreamFrame;
import io.netty.handler.codec.spdy.DefaultSpdySynReplyFrame;
import io.netty.handler.codec.spdy.SpdyDataFrame;
import io.netty.handler.codec.spdy.SpdyFrameCodec;
import io.netty.handler.codec.spdy.SpdyGoAwayFrame;
import io.netty.handler.codec.spdy.SpdyPingFrame;
import io.netty.handler.codec.spdy.SpdyRstStreamFrame;
import io.netty.handler.codec.spdy.SpdyStreamStatus;
import io.netty.handler.codec.spdy.SpdySynStreamFrame;
import io.netty.util.ReferenceCountUtil;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server side of one SPDY/3.1 connection as Kubernetes uses it (moby/spdystream): the client
 * opens every stream with SYN_STREAM and typed headers ({@code streamtype}, and for port-forward
 * {@code port} and {@code requestid}); we answer each with SYN_REPLY and then both sides send
 * DATA, a FIN closing one direction. There is no SPDY flow control here on purpose: spdystream
 * never sends WINDOW_UPDATE, so the kubelet's clients rely on TCP alone, and so do we ({@link
 * InboundPipe}, {@link ChannelOutput}).
 *
 * <p>What the streams mean is the {@link App}'s business (remotecommand or port-forward). All
 * methods run on the channel's event loop.
 */
final class SpdyConnection extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(SpdyConnection.class);

    /** What runs over the connection. Called on the event loop; must not block. */
    interface App {
        void onStream(SpdyConnection conn, Stream stream);

        /** The connection closed; every stream's pipe has failed already. */
        void onClose();
    }

    /** One client-opened stream: its headers, what the client sends, and our direction. */
    final class Stream {
        final int id;
        final Map<String, String> headers;
        final InboundPipe in;
        final ChannelOutput out;

        Stream(int id, Map<String, String> headers) {
            this.id = id;
            this.headers = headers;
            this.in = new InboundPipe(throttle);
            // DATA frames are encoded here and written below the codec, which would copy each payload.
            var codec = channel.pipeline().context(SpdyFrameCodec.class);
            this.out = new ChannelOutput(
                    channel,
                    codec,
                    gate,
                    buf -> dataFrame(id, buf, false),
                    () -> dataFrame(id, Unpooled.EMPTY_BUFFER, true));
        }

        String header(String name) {
            return headers.getOrDefault(name, "");
        }

        /** Refuses this stream (RST_STREAM), e.g. an unknown stream type. */
        void reset() {
            in.fail("stream reset by the server");
            out.close();
            channel.writeAndFlush(new DefaultSpdyRstStreamFrame(id, SpdyStreamStatus.REFUSED_STREAM));
            streams.remove(id);
        }
    }

    /**
     * A DATA frame as bytes, its payload not copied:
     *
     * <pre>
     * |0|  Stream-ID (31)  |  Flags (8)  |  Length (24)  |  payload
     * </pre>
     */
    private ByteBuf dataFrame(int streamId, ByteBuf payload, boolean fin) {
        if (payload.readableBytes() > 0xffffff) {
            payload.release();
            throw new IllegalArgumentException("a SPDY frame carries at most 16 MiB");
        }
        ByteBuf header = channel.alloc().ioBuffer(8);
        header.writeInt(streamId & 0x7fffffff);
        header.writeByte(fin ? 1 : 0);
        header.writeMedium(payload.readableBytes());
        return payload.isReadable() ? Unpooled.wrappedBuffer(header, payload) : header;
    }

    private final Channel channel;
    private final App app;
    private final InboundPipe.Throttle throttle;
    private final ChannelOutput.Gate gate;
    private final Map<Integer, Stream> streams = new HashMap<>(); // event loop only
    private int lastStreamId;

    SpdyConnection(Channel channel, App app) {
        this.channel = channel;
        this.app = app;
        this.throttle = new InboundPipe.Throttle(channel);
        this.gate = new ChannelOutput.Gate(channel);
    }

    Channel channel() {
        return channel;
    }

    /** Forgets a stream both sides are done with (any thread). */
    void release(Stream s) {
        channel.eventLoop().execute(() -> streams.remove(s.id, s));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            switch (msg) {
                case SpdySynStreamFrame f -> synStream(f);
                case SpdyDataFrame f -> data(f);
                case SpdyRstStreamFrame f -> {
                    Stream s = streams.remove(f.streamId());
                    if (s != null) {
                        s.in.fail("stream reset by the client");
                        s.out.close();
                    }
                }
                case SpdyPingFrame f -> {
                    if ((f.id() & 1) == 1) {
                        ctx.writeAndFlush(new io.netty.handler.codec.spdy.DefaultSpdyPingFrame(
                                f.id())); // the client's ping: echo it
                    }
                }
                case SpdyGoAwayFrame f -> ctx.close();
                default -> {} // SETTINGS, WINDOW_UPDATE, HEADERS: nothing to do
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void synStream(SpdySynStreamFrame f) {
        int id = f.streamId();
        if ((id & 1) == 0 || id <= lastStreamId) {
            // Clients open odd, increasing ids; anything else is a protocol error on that stream.
            channel.writeAndFlush(new DefaultSpdyRstStreamFrame(id, SpdyStreamStatus.PROTOCOL_ERROR));
            return;
        }
        lastStreamId = id;
        Map<String, String> headers = new HashMap<>();
        for (var e : f.headers()) {
            headers.putIfAbsent(
                    e.getKey().toString().toLowerCase(java.util.Locale.ROOT),
                    e.getValue().toString());
        }
        Stream s = new Stream(id, headers);
        streams.put(id, s);
        // A SYN_REPLY must carry a header block (spdystream fails to parse one without), and Netty
        // writes none for an empty header set: echo the stream's type.
        var reply = new DefaultSpdySynReplyFrame(id);
        reply.headers().set("streamtype", headers.getOrDefault("streamtype", "unknown"));
        channel.writeAndFlush(reply);
        if (f.isLast()) {
            s.in.finish();
        }
        app.onStream(this, s);
    }

    private void data(SpdyDataFrame f) {
        Stream s = streams.get(f.streamId());
        if (s == null) {
            channel.writeAndFlush(new DefaultSpdyRstStreamFrame(f.streamId(), SpdyStreamStatus.INVALID_STREAM));
            return;
        }
        if (f.content().isReadable()) {
            s.in.offer(f.content().retain());
        }
        if (f.isLast()) {
            s.in.finish();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        gate.signal();
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        for (Stream s : streams.values()) {
            s.in.fail("client went away");
        }
        streams.clear();
        gate.signal();
        app.onClose();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.atDebug()
                .addKeyValue("remote", String.valueOf(ctx.channel().remoteAddress()))
                .log("streaming connection failed: {}", cause.toString());
        ctx.close();
    }
}

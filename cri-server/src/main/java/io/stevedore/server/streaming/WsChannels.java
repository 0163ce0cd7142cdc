package io.stevedore.server.streaming;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import java.util.Base64;
import java.util.function.BiConsumer;

/**
 * Kubernetes' channel framing over one WebSocket (wsstream): every message starts with its channel
 * number, one byte in binary protocols or one ASCII digit in base64 ones (whose payload is then
 * base64). Channels are numbered from 0 and each is readable (client to us), writable, or both. In
 * {@code v5.channel.k8s.io} a message {@code [255, n]} from the client half-closes channel {@code
 * n}. Messages on a channel we do not read are dropped, as the kubelet does.
 *
 * <p>Event-loop methods; {@link #out} streams are written from session threads.
 */
final class WsChannels extends ChannelInboundHandlerAdapter {
    static final int CLOSE_SIGNAL = 255;

    private final Channel channel;
    private final Protocols.Version version;
    private final InboundPipe[] in;
    private final ChannelOutput[] out;
    private final ChannelOutput.Gate gate;
    private final BiConsumer<Integer, byte[]> messages; // for channels read whole (resize), or null
    private final boolean[] wholeMessagesMask;
    private final Runnable onClose;

    /**
     * @param readable which channels the client may send on (pipes are made for them)
     * @param writable which channels we send on
     * @param wholeMessages channels whose messages go to {@code messages} instead of a pipe
     */
    WsChannels(
            Channel channel,
            Protocols.Version version,
            boolean[] readable,
            boolean[] writable,
            boolean[] wholeMessages,
            BiConsumer<Integer, byte[]> messages,
            Runnable onClose) {
        this.channel = channel;
        this.version = version;
        this.messages = messages;
        this.onClose = onClose;
        this.gate = new ChannelOutput.Gate(channel);
        var throttle = new InboundPipe.Throttle(channel);
        in = new InboundPipe[readable.length];
        out = new ChannelOutput[writable.length];
        for (int i = 0; i < readable.length; i++) {
            if (readable[i] && !wholeMessages[i]) {
                in[i] = new InboundPipe(throttle);
            }
            if (writable[i]) {
                int ch = i;
                out[i] = new ChannelOutput(channel, gate, buf -> frame(ch, buf), null);
            }
        }
        this.wholeMessagesMask = wholeMessages;
    }

    InboundPipe in(int ch) {
        return in[ch];
    }

    ChannelOutput out(int ch) {
        return out[ch];
    }

    /** One message on a channel: {@code [ch] data}, or {@code '0'+ch base64(data)}. */
    Object frame(int ch, ByteBuf data) {
        if (version.base64()) {
            String s = (char) ('0' + ch) + Base64.getEncoder().encodeToString(ByteBufUtil.getBytes(data));
            data.release();
            return new TextWebSocketFrame(s);
        }
        return new BinaryWebSocketFrame(Unpooled.wrappedBuffer(Unpooled.wrappedBuffer(new byte[] {(byte) ch}), data));
    }

    /** Sends raw bytes on a channel without waiting (the port prefix, the first empty message). */
    void send(int ch, byte[] data) {
        channel.writeAndFlush(frame(ch, Unpooled.wrappedBuffer(data)));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            switch (msg) {
                case BinaryWebSocketFrame f when !version.base64() -> deliver(f.content());
                case TextWebSocketFrame f
                when version.base64() -> {
                    String s = f.text();
                    if (!s.isEmpty() && s.charAt(0) >= '0' && s.charAt(0) <= '9') {
                        byte[] data;
                        try {
                            data = Base64.getDecoder().decode(s.substring(1));
                        } catch (IllegalArgumentException e) {
                            return; // not base64: dropped
                        }
                        byte[] m = new byte[data.length + 1];
                        m[0] = (byte) (s.charAt(0) - '0');
                        System.arraycopy(data, 0, m, 1, data.length);
                        ByteBuf w = Unpooled.wrappedBuffer(m);
                        try {
                            deliver(w);
                        } finally {
                            w.release();
                        }
                    }
                }
                case PingWebSocketFrame f ->
                    ctx.writeAndFlush(new PongWebSocketFrame(f.content().retain()));
                case CloseWebSocketFrame f ->
                    ctx.writeAndFlush(new CloseWebSocketFrame(f.statusCode(), ""))
                            .addListener(io.netty.channel.ChannelFutureListener.CLOSE);
                default -> {} // pongs, or a frame kind this protocol does not use
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    /** One message: its channel byte, then the payload (the frame keeps the buffer). */
    private void deliver(ByteBuf m) {
        if (!m.isReadable()) {
            return;
        }
        int ch = m.getUnsignedByte(m.readerIndex());
        if (ch == CLOSE_SIGNAL && version.closeSignal()) {
            if (m.readableBytes() == 2) {
                int target = m.getUnsignedByte(m.readerIndex() + 1);
                if (target < in.length && in[target] != null) {
                    in[target].finish();
                }
            }
            return;
        }
        if (ch >= in.length) {
            return;
        }
        ByteBuf data = m.retainedSlice(m.readerIndex() + 1, m.readableBytes() - 1);
        if (wholeMessagesMask[ch]) {
            try {
                messages.accept(ch, ByteBufUtil.getBytes(data));
            } finally {
                data.release();
            }
        } else if (in[ch] != null) {
            in[ch].offer(data);
        } else {
            data.release();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        gate.signal();
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        for (InboundPipe p : in) {
            if (p != null) {
                p.fail("client went away");
            }
        }
        gate.signal();
        onClose.run();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    static byte[] portPrefix(int port) {
        return new byte[] {(byte) (port & 0xff), (byte) ((port >> 8) & 0xff)};
    }
}

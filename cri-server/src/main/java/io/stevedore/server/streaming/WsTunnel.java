package io.stevedore.server.streaming;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageCodec;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.util.List;

/**
 * A byte stream carried in binary WebSocket messages, as client-go's TunnelingConnection sends
 * SPDY through the API server ({@code SPDY/3.1+portforward.k8s.io}): message boundaries mean
 * nothing, each message's payload continues the stream.
 */
final class WsTunnel extends MessageToMessageCodec<WebSocketFrame, ByteBuf> {
    @Override
    protected void encode(ChannelHandlerContext ctx, ByteBuf msg, List<Object> out) {
        if (msg.isReadable()) {
            out.add(new BinaryWebSocketFrame(msg.retain()));
        } else {
            out.add(msg.retain()); // an empty flush marker: nothing to frame
        }
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, WebSocketFrame frame, List<Object> out) {
        switch (frame) {
            case BinaryWebSocketFrame f -> out.add(f.content().retain());
            case io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame f ->
                out.add(f.content().retain());
            case PingWebSocketFrame f ->
                ctx.writeAndFlush(new PongWebSocketFrame(f.content().retain()));
            case CloseWebSocketFrame f ->
                ctx.writeAndFlush(new CloseWebSocketFrame(f.statusCode(), "")).addListener(ChannelFutureListener.CLOSE);
            default -> {} // text or pong: not part of the tunnel
        }
    }
}

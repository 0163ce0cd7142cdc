package io.stevedore.conformance.stream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakerFactory;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The WebSocket opening handshake (RFC 6455, with Netty's {@link WebSocketClientHandshaker}) to a
 * streaming URL, offering one or more {@code Sec-WebSocket-Protocol} values. The URL may be the
 * {@code http://} one the daemon returns: the handshake is a {@code GET} to the same path and query.
 */
final class WsHandshake {
    private WsHandshake() {}

    /** An open WebSocket whose pipeline now carries WebSocket frames; the chosen subprotocol. */
    record Opened(Channel channel, String subprotocol) {}

    /**
     * Connects and performs the handshake; on 101 {@code afterHandshake} adds the frame handlers
     * before any frame is passed on.
     *
     * @param maxFrame the largest frame payload accepted from the server
     * @throws UpgradeFailedException when the server answers other than 101
     */
    static Opened open(URI url, List<String> subprotocols, int maxFrame, Consumer<ChannelPipeline> afterHandshake)
            throws IOException {
        String scheme = url.getScheme().equals("https") || url.getScheme().equals("wss") ? "wss" : "ws";
        URI ws = URI.create(scheme + "://" + url.getRawAuthority() + url.getRawPath()
                + (url.getRawQuery() != null ? "?" + url.getRawQuery() : ""));
        String offered = subprotocols.isEmpty() ? null : String.join(",", subprotocols);
        WebSocketClientHandshaker hs = WebSocketClientHandshakerFactory.newHandshaker(
                ws, WebSocketVersion.V13, offered, false, new DefaultHttpHeaders(), maxFrame);
        var done = new CompletableFuture<String>();
        Channel ch = StreamLoop.connect(
                ws,
                c -> c.pipeline()
                        .addLast("http", new HttpClientCodec())
                        .addLast("http-aggregator", new HttpObjectAggregator(1 << 20))
                        .addLast("ws-handshake", new SimpleChannelInboundHandler<FullHttpResponse>() {
                            @Override
                            public void channelActive(ChannelHandlerContext ctx) {
                                hs.handshake(ctx.channel()).addListener(f -> {
                                    if (!f.isSuccess()) {
                                        done.completeExceptionally(
                                                new IOException("cannot send the WebSocket handshake", f.cause()));
                                    }
                                });
                                ctx.fireChannelActive();
                            }

                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse res) {
                                if (res.status().code() != 101) {
                                    done.completeExceptionally(new UpgradeFailedException(
                                            res.status().code(), res.content().toString(StandardCharsets.UTF_8)));
                                    ctx.close();
                                    return;
                                }
                                try {
                                    hs.finishHandshake(ctx.channel(), res);
                                } catch (RuntimeException e) {
                                    done.completeExceptionally(
                                            new IOException("bad WebSocket handshake answer: " + e.getMessage(), e));
                                    ctx.close();
                                    return;
                                }
                                afterHandshake.accept(ctx.pipeline());
                                ctx.pipeline().remove(this);
                                done.complete(hs.actualSubprotocol());
                            }

                            @Override
                            public void channelInactive(ChannelHandlerContext ctx) {
                                done.completeExceptionally(
                                        new IOException("connection closed during the WebSocket handshake"));
                                ctx.fireChannelInactive();
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                done.completeExceptionally(cause);
                                ctx.close();
                            }
                        }));
        try {
            return new Opened(ch, done.get(30, TimeUnit.SECONDS));
        } catch (ExecutionException e) {
            ch.close();
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } catch (TimeoutException e) {
            ch.close();
            throw new IOException("no answer to the WebSocket handshake within 30 s", e);
        } catch (InterruptedException e) {
            ch.close();
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }
}

package io.stevedore.conformance.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.codec.spdy.DefaultSpdyDataFrame;
import io.netty.handler.codec.spdy.DefaultSpdySynReplyFrame;
import io.netty.handler.codec.spdy.SpdyDataFrame;
import io.netty.handler.codec.spdy.SpdyFrameCodec;
import io.netty.handler.codec.spdy.SpdySynStreamFrame;
import io.netty.handler.codec.spdy.SpdyVersion;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The streaming clients against tiny in-process servers (no daemon, no root): a SPDY echo server
 * behind a hand-made HTTP upgrade, the same SPDY server tunnelled in a WebSocket, and a WebSocket
 * channel echo. Checks the clients' own framing, so IT failures point at the daemon.
 */
class StreamClientsTest {
    static EventLoopGroup group;
    static Channel server;
    static int port;

    @BeforeAll
    static void startServer() throws Exception {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new Router());
                    }
                })
                .bind("127.0.0.1", 0)
                .sync()
                .channel();
        port = ((java.net.InetSocketAddress) server.localAddress()).getPort();
    }

    @AfterAll
    static void stop() {
        server.close();
        group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS);
    }

    /** Sniffs the request: a SPDY upgrade (answered by hand), or a WebSocket/HTTP request. */
    static final class Router extends ChannelInboundHandlerAdapter {
        private final ByteBuf head = Unpooled.buffer();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            head.writeBytes((ByteBuf) msg);
            ((ByteBuf) msg).release();
            String text = head.toString(StandardCharsets.ISO_8859_1);
            int end = text.indexOf("\r\n\r\n");
            if (end < 0) {
                return;
            }
            var p = ctx.pipeline();
            if (text.startsWith("POST /spdy")) {
                String proto = text.lines()
                        .filter(l -> l.startsWith("X-Stream-Protocol-Version: "))
                        .findFirst()
                        .orElseThrow()
                        .substring(27);
                head.skipBytes(end + 4);
                ctx.writeAndFlush(Unpooled.copiedBuffer(
                        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                                + "Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: " + proto + "\r\n\r\n",
                        StandardCharsets.US_ASCII));
                p.addLast(new SpdyFrameCodec(SpdyVersion.SPDY_3_1, false), new SpdyEcho());
            } else if (text.startsWith("POST /missing")) {
                ctx.writeAndFlush(Unpooled.copiedBuffer(
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\nnot found\n", StandardCharsets.US_ASCII));
                head.clear();
                return;
            } else {
                p.addLast(
                        new HttpServerCodec(),
                        new HttpObjectAggregator(65536),
                        new WebSocketServerProtocolHandler(
                                "/ws", "v5.channel.k8s.io,SPDY/3.1+portforward.k8s.io", false, 1 << 24));
                p.addLast(new SimpleChannelInboundHandler<BinaryWebSocketFrame>() {
                    @Override
                    public void userEventTriggered(ChannelHandlerContext c, Object evt) {
                        if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete hc
                                && hc.selectedSubprotocol().startsWith("SPDY")) {
                            // unwrap binary messages into SPDY bytes and back
                            c.pipeline()
                                    .addLast(
                                            new io.netty.handler.codec.MessageToMessageCodec<
                                                    BinaryWebSocketFrame, ByteBuf>() {
                                                @Override
                                                protected void encode(
                                                        ChannelHandlerContext x, ByteBuf m, List<Object> out) {
                                                    out.add(new BinaryWebSocketFrame(m.retain()));
                                                }

                                                @Override
                                                protected void decode(
                                                        ChannelHandlerContext x,
                                                        BinaryWebSocketFrame m,
                                                        List<Object> out) {
                                                    out.add(m.content().retain());
                                                }
                                            },
                                            new SpdyFrameCodec(SpdyVersion.SPDY_3_1, false),
                                            new SpdyEcho());
                            c.pipeline().remove(this);
                        }
                    }

                    @Override
                    protected void channelRead0(ChannelHandlerContext c, BinaryWebSocketFrame m) {
                        c.writeAndFlush(new BinaryWebSocketFrame(m.content().retain())); // channel echo
                    }
                });
                p.addLast(new SimpleChannelInboundHandler<io.netty.handler.codec.http.FullHttpRequest>() {
                    @Override
                    protected void channelRead0(
                            ChannelHandlerContext c, io.netty.handler.codec.http.FullHttpRequest m) {
                        var res = new io.netty.handler.codec.http.DefaultFullHttpResponse(
                                m.protocolVersion(), io.netty.handler.codec.http.HttpResponseStatus.NOT_FOUND);
                        res.headers().set("content-length", 0);
                        c.writeAndFlush(res);
                    }
                });
            }
            p.remove(this);
            ByteBuf rest = head.retainedSlice();
            head.release();
            if (rest.isReadable()) {
                ctx.fireChannelRead(rest);
            } else {
                rest.release();
            }
        }
    }

    /** Replies to every stream, echoes its data, answers FIN with FIN. */
    static final class SpdyEcho extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof SpdySynStreamFrame syn) {
                var reply = new DefaultSpdySynReplyFrame(syn.streamId());
                ctx.writeAndFlush(reply);
            } else if (msg instanceof SpdyDataFrame d) {
                var echo = new DefaultSpdyDataFrame(d.streamId(), d.content().retain());
                echo.setLast(d.isLast());
                ctx.writeAndFlush(echo);
                d.release();
            } else {
                io.netty.util.ReferenceCountUtil.release(msg);
            }
        }
    }

    @Test
    void spdy_negotiatesOpensStreamsAndEchoesFourMebibytesWithFin() throws Exception {
        try (var spdy = SpdyClient.connect(
                URI.create("http://127.0.0.1:" + port + "/spdy/x"),
                "POST",
                List.of("v4.channel.k8s.io", "v3.channel.k8s.io"))) {
            assertEquals("v4.channel.k8s.io", spdy.protocol());
            echo(spdy);
        }
    }

    @Test
    void spdyInWebSocket_echoesFourMebibytesWithFin() throws Exception {
        try (var spdy = SpdyClient.connectOverWebSocket(
                URI.create("http://127.0.0.1:" + port + "/ws"), List.of("SPDY/3.1+portforward.k8s.io"))) {
            assertEquals("SPDY/3.1+portforward.k8s.io", spdy.protocol());
            echo(spdy);
        }
    }

    private static void echo(SpdyClient spdy) throws Exception {
        var a = spdy.open(Map.of("streamtype", "error"));
        var b = spdy.open(Map.of("streamtype", "data", "port", "80"));
        assertEquals(1, a.id());
        assertEquals(3, b.id());
        byte[] data = new byte[4 << 20];
        new Random(1).nextBytes(data);
        var t = StreamingFixture.echo(b.output(), b.input(), data.length);
        assertEquals(t.sent(), t.received());
        b.halfClose();
        assertEquals(-1, b.input().read());
        a.halfClose();
        assertEquals("", a.readAll());
    }

    @Test
    void spdy_refusedUpgrade_carriesStatusAndBody() {
        var e = assertThrows(
                UpgradeFailedException.class,
                () -> SpdyClient.connect(URI.create("http://127.0.0.1:" + port + "/missing"), "POST", List.of("x")));
        assertEquals(404, e.status());
        assertEquals("not found\n", e.body());
    }

    @Test
    void webSocketChannels_roundTripAndClose() throws Exception {
        try (var ch = new WsChannels(
                WsClient.connect(URI.create("http://127.0.0.1:" + port + "/ws"), List.of("v5.channel.k8s.io")))) {
            assertEquals("v5.channel.k8s.io", ch.client().subprotocol());
            byte[] big = new byte[100_000];
            new Random(2).nextBytes(big);
            ch.write(1, big, 0, big.length);
            assertArrayEquals(big, ch.input(1).readNBytes(big.length));
            ch.closeChannel(0);
            assertArrayEquals(new byte[] {0}, ch.input(255).readNBytes(1), "CLOSE signal [255, 0] echoed");
        }
    }

    @Test
    void webSocket_refusedHandshake_carriesStatus() {
        var e = assertThrows(
                UpgradeFailedException.class,
                () -> WsClient.connect(
                        URI.create("http://127.0.0.1:" + port + "/nowhere"), List.of("v5.channel.k8s.io")));
        assertEquals(404, e.status(), e.getMessage());
    }
}

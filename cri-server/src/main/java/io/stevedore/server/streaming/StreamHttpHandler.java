package io.stevedore.server.streaming;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.handler.codec.spdy.SpdyFrameCodec;
import io.netty.handler.codec.spdy.SpdyVersion;
import io.stevedore.cri.v1.AttachRequest;
import io.stevedore.cri.v1.ExecRequest;
import io.stevedore.cri.v1.PortForwardRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first (and only) HTTP request of a streaming connection: {@code /exec/<token>}, {@code
 * /attach/<token>} or {@code /portforward/<token>}. The token is consumed whatever happens next;
 * then the connection is upgraded to SPDY/3.1 or to a WebSocket, and this handler leaves the
 * pipeline to the protocol's handlers.
 */
final class StreamHttpHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger log = LoggerFactory.getLogger(StreamHttpHandler.class);
    /** Largest WebSocket message we assemble (kubectl sends stdin in 32 KiB messages). */
    static final int MAX_WS_MESSAGE = 1 << 20;

    private final StreamTokens tokens;
    private final Sessions sessions;
    private final StreamRuntime runtime;

    StreamHttpHandler(StreamTokens tokens, Sessions sessions, StreamRuntime runtime) {
        this.tokens = tokens;
        this.sessions = sessions;
        this.runtime = runtime;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        var uri = new QueryStringDecoder(req.uri());
        String[] parts = uri.path().split("/");
        if (parts.length != 3 || !parts[0].isEmpty()) {
            reply(ctx, HttpResponseStatus.NOT_FOUND, "not found");
            return;
        }
        String kind = parts[1];
        Optional<Object> taken = tokens.take(parts[2]);
        Object request = taken.filter(r -> switch (kind) {
                    case "exec" -> r instanceof ExecRequest;
                    case "attach" -> r instanceof AttachRequest;
                    case "portforward" -> r instanceof PortForwardRequest;
                    default -> false;
                })
                .orElse(null);
        if (request == null) {
            log.atWarn()
                    .addKeyValue("remote", String.valueOf(ctx.channel().remoteAddress()))
                    .addKeyValue("path", kind)
                    .log("streaming request with an unknown, used or expired token");
            reply(ctx, HttpResponseStatus.NOT_FOUND, "unknown, used or expired token");
            return;
        }
        StreamRuntime.Owner owner;
        try {
            owner = switch (request) {
                case ExecRequest r -> runtime.checkExec(r);
                case AttachRequest r -> runtime.checkAttach(r);
                case PortForwardRequest r -> runtime.checkPortForward(r.getPodSandboxId());
                default -> throw new IllegalStateException("unexpected request");
            };
        } catch (RuntimeException e) {
            // The container stopped or the pod went away between the RPC and the connection.
            reply(ctx, HttpResponseStatus.NOT_FOUND, String.valueOf(e.getMessage()));
            return;
        }
        Sessions.Session session = sessions.open(owner.id(), owner.pod(), ctx.channel());
        if (session == null) {
            reply(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, "too many streaming sessions");
            return;
        }
        String upgrade = req.headers().get(HttpHeaderNames.UPGRADE, "");
        if (upgrade.equalsIgnoreCase("websocket")) {
            webSocket(ctx, req, request, session);
        } else if (upgrade.equalsIgnoreCase(Protocols.SPDY_UPGRADE)
                && req.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)) {
            spdy(ctx, req, request, session);
        } else {
            reply(ctx, HttpResponseStatus.BAD_REQUEST, "unable to upgrade: missing upgrade headers in request");
        }
    }

    private void spdy(ChannelHandlerContext ctx, FullHttpRequest req, Object request, Sessions.Session session) {
        boolean portForward = request instanceof PortForwardRequest;
        List<Protocols.Version> ours = portForward ? Protocols.SPDY_PORT_FORWARD : Protocols.SPDY_COMMAND;
        List<String> offered = Protocols.split(req.headers().getAll("X-Stream-Protocol-Version"));
        Optional<Protocols.Version> v = offered.isEmpty()
                ? Optional.of(ours.getLast()) // clients from before negotiation: the first protocol
                : Protocols.negotiate(offered, ours);
        if (v.isEmpty()) {
            var res = response(
                    HttpResponseStatus.FORBIDDEN,
                    "unable to upgrade: unable to negotiate protocol: client supports " + offered + ", server accepts "
                            + Protocols.names(ours));
            ours.forEach(o -> res.headers().add("X-Accepted-Stream-Protocol-Versions", o.name()));
            ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        var res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS);
        res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
        res.headers().set(HttpHeaderNames.UPGRADE, Protocols.SPDY_UPGRADE);
        res.headers().set("X-Stream-Protocol-Version", v.get().name());
        ctx.writeAndFlush(res);
        ChannelPipeline p = ctx.pipeline();
        SpdyConnection.App app = portForward
                ? new SpdyPortForward(runtime, session.pod, session)
                : new SpdyRemoteCommand(runtime, request, v.get(), session);
        p.addAfter(ctx.name(), "spdy", spdyCodec());
        p.addAfter("spdy", "spdy-session", new SpdyConnection(ctx.channel(), app));
        p.remove(HttpObjectAggregator.class);
        p.remove(HttpServerCodec.class);
        p.remove(this);
        log.atInfo()
                .addKeyValue("id", session.owner)
                .addKeyValue("protocol", v.get().name())
                .log("{} session over SPDY", portForward ? "port-forward" : CommandSession.kind(request));
    }

    private void webSocket(ChannelHandlerContext ctx, FullHttpRequest req, Object request, Sessions.Session session) {
        boolean portForward = request instanceof PortForwardRequest;
        List<Protocols.Version> ours = portForward ? Protocols.WS_PORT_FORWARD : Protocols.WS_COMMAND;
        List<String> offered = Protocols.split(req.headers().getAll(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL));
        Optional<Protocols.Version> v = offered.isEmpty()
                ? Optional.of(ours.stream()
                        .filter(o -> o.name().equals("channel.k8s.io"))
                        .findFirst()
                        .orElseThrow())
                : Protocols.negotiate(offered, ours);
        if (v.isEmpty()) {
            reply(
                    ctx,
                    HttpResponseStatus.BAD_REQUEST,
                    "requested protocol(s) are not supported: " + offered + "; supports " + Protocols.names(ours));
            return;
        }
        List<Integer> ports = new ArrayList<>();
        if (portForward && !v.get().tunnel()) {
            var uri = new QueryStringDecoder(req.uri());
            for (String s : uri.parameters().getOrDefault("port", List.of())) {
                int port = SpdyPortForward.parsePort(s);
                if (port < 0) {
                    reply(ctx, HttpResponseStatus.BAD_REQUEST, "invalid port \"" + s + "\"");
                    return;
                }
                ports.add(port);
            }
            if (ports.isEmpty() || ports.size() > 64) {
                reply(ctx, HttpResponseStatus.BAD_REQUEST, "query parameter \"port\" is required (at most 64)");
                return;
            }
        }
        String scheme = ctx.pipeline().get(io.netty.handler.ssl.SslHandler.class) != null ? "wss" : "ws";
        var factory = new WebSocketServerHandshakerFactory(
                scheme + "://" + req.headers().get(HttpHeaderNames.HOST) + req.uri(),
                offered.isEmpty() ? null : v.get().name(),
                false,
                MAX_WS_MESSAGE);
        WebSocketServerHandshaker hs = factory.newHandshaker(req);
        if (hs == null) {
            WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel());
            return;
        }
        hs.handshake(ctx.channel(), req);
        ChannelPipeline p = ctx.pipeline();
        if (v.get().tunnel()) {
            String pod = session.pod;
            p.addAfter(ctx.name(), "ws-tunnel", new WsTunnel());
            p.addAfter("ws-tunnel", "spdy", spdyCodec());
            p.addAfter(
                    "spdy",
                    "spdy-session",
                    new SpdyConnection(ctx.channel(), new SpdyPortForward(runtime, pod, session)));
        } else {
            p.addAfter(ctx.name(), "ws-aggregator", new WebSocketFrameAggregator(MAX_WS_MESSAGE));
            session.goodbye = () -> new CloseWebSocketFrame(1000, "");
            if (portForward) {
                WsPortForward.start(p, "ws-aggregator", runtime, session.pod, ports, v.get(), session);
            } else {
                WsRemoteCommand.start(p, "ws-aggregator", runtime, request, v.get(), session);
            }
        }
        p.remove(this);
        log.atInfo()
                .addKeyValue("id", session.owner)
                .addKeyValue("protocol", v.get().name())
                .log("{} session over WebSocket", portForward ? "port-forward" : CommandSession.kind(request));
    }

    /** SPDY/3.1 frames; a client's DATA frame reaches us whole (Go writes 32 KiB), not in 8 KiB pieces. */
    private static SpdyFrameCodec spdyCodec() {
        return new SpdyFrameCodec(SpdyVersion.SPDY_3_1, 64 << 10, 16 << 10, 6, 15, 8);
    }

    private static void reply(ChannelHandlerContext ctx, HttpResponseStatus status, String text) {
        ctx.writeAndFlush(response(status, text)).addListener(ChannelFutureListener.CLOSE);
    }

    private static FullHttpResponse response(HttpResponseStatus status, String text) {
        var res = new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1, status, Unpooled.copiedBuffer(text + "\n", StandardCharsets.UTF_8));
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        HttpUtil.setContentLength(res, res.content().readableBytes());
        res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        return res;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.atDebug().log("streaming request failed: {}", cause.toString());
        ctx.close();
    }
}

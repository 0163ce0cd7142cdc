package io.stevedore.server.streaming;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.stevedore.cri.v1.AttachRequest;
import io.stevedore.cri.v1.ExecRequest;
import io.stevedore.cri.v1.PortForwardRequest;
import io.stevedore.server.DaemonConfig;
import io.stevedore.server.error.CriException;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.InstantSource;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's streaming server: the HTTP endpoint whose URLs Exec, Attach and PortForward return
 * and to which the kubelet proxies {@code kubectl exec}, {@code attach} and {@code port-forward}
 * (containerd and CRI-O run the same server inside themselves). One event loop serves every
 * connection; the sessions' copying runs on their own threads, so a slow or stuck client never
 * holds up a CRI call or another session.
 *
 * <p>The RPC side ({@link #exec}, {@link #attach}, {@link #portForward}) validates the request,
 * stores it under a fresh token and returns the URL.
 */
public final class StreamingServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StreamingServer.class);
    /** Pending tokens at most (the kubelet's limit too). */
    static final int MAX_PENDING = 1000;
    /** Sessions open at once at most. */
    static final int MAX_SESSIONS = 1024;

    private final StreamRuntime runtime;
    private final StreamTokens tokens;
    private final Sessions sessions;
    private final EventLoopGroup loop;
    private final Channel server;
    private final String base;

    private StreamingServer(
            StreamRuntime runtime,
            StreamTokens tokens,
            Sessions sessions,
            EventLoopGroup loop,
            Channel server,
            String base) {
        this.runtime = runtime;
        this.tokens = tokens;
        this.sessions = sessions;
        this.loop = loop;
        this.server = server;
        this.base = base;
    }

    /** Binds the configured address and port and starts serving. */
    public static StreamingServer start(DaemonConfig.Stream cfg, StreamRuntime runtime) throws IOException {
        return start(cfg, runtime, InstantSource.system());
    }

    /** As {@link #start(DaemonConfig.Stream, StreamRuntime)}, token expiry on {@code clock} (tests). */
    static StreamingServer start(DaemonConfig.Stream cfg, StreamRuntime runtime, InstantSource clock)
            throws IOException {
        SslContext ssl = null;
        if (cfg.tls()) {
            try {
                ssl = SslContextBuilder.forServer(
                                cfg.tlsCert().orElseThrow().toFile(),
                                cfg.tlsKey().orElseThrow().toFile())
                        .build();
            } catch (IOException | RuntimeException e) {
                throw new IOException(
                        "stream TLS: cannot load " + cfg.tlsCert().get() + " / "
                                + cfg.tlsKey().get() + ": " + e.getMessage(),
                        e);
            }
        }
        var tokens = new StreamTokens(clock, MAX_PENDING);
        boolean epoll = Epoll.isAvailable();
        EventLoopGroup loop =
                new MultiThreadIoEventLoopGroup(1, epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        var sessions = new Sessions(MAX_SESSIONS);
        SslContext sslContext = ssl;
        long idleSeconds = Math.max(1, cfg.idleTimeout().toSeconds());
        try {
            InetAddress addr = InetAddress.getByName(cfg.address());
            Channel ch = new ServerBootstrap()
                    .group(loop)
                    .channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 << 10, 1 << 20))
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel c) {
                            var p = c.pipeline();
                            if (sslContext != null) {
                                p.addLast("tls", sslContext.newHandler(c.alloc()));
                            }
                            p.addLast("idle", new IdleStateHandler(0, 0, idleSeconds, TimeUnit.SECONDS) {
                                @Override
                                protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent evt) {
                                    log.atInfo().log("closing a streaming connection idle for {}s", idleSeconds);
                                    ctx.close();
                                }
                            });
                            p.addLast("http", new HttpServerCodec(4096, 16384, 8192));
                            p.addLast("aggregator", new HttpObjectAggregator(64 << 10));
                            p.addLast("route", new StreamHttpHandler(tokens, sessions, runtime));
                        }
                    })
                    .bind(new InetSocketAddress(addr, cfg.port()))
                    .syncUninterruptibly()
                    .channel();
            int port = ((InetSocketAddress) ch.localAddress()).getPort();
            String host = addr instanceof Inet6Address ? "[" + addr.getHostAddress() + "]" : addr.getHostAddress();
            var server = new StreamingServer(
                    runtime, tokens, sessions, loop, ch, (cfg.tls() ? "https" : "http") + "://" + host + ":" + port);
            log.atInfo().addKeyValue("url", server.base).log("streaming server listening");
            return server;
        } catch (RuntimeException e) {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IOException(
                    "streaming server: cannot listen on " + cfg.address() + ":" + cfg.port() + ": " + e.getMessage(),
                    e);
        }
    }

    /** {@code http(s)://host:port} clients connect to. */
    public String baseUrl() {
        return base;
    }

    /** Exec: validates the request and returns the URL of its session. */
    public String exec(ExecRequest req) {
        checkStreams(req.getTty(), req.getStdin(), req.getStdout(), req.getStderr());
        runtime.checkExec(req);
        return base + "/exec/" + tokens.put(req);
    }

    /** Attach: validates the request and returns the URL of its session. */
    public String attach(AttachRequest req) {
        checkStreams(req.getTty(), req.getStdin(), req.getStdout(), req.getStderr());
        runtime.checkAttach(req);
        return base + "/attach/" + tokens.put(req);
    }

    /** PortForward: validates the pod and returns the URL of its session. */
    public String portForward(PortForwardRequest req) {
        runtime.checkPortForward(req.getPodSandboxId());
        return base + "/portforward/" + tokens.put(req);
    }

    /** The kubelet's own checks: a terminal merges stderr into stdout, and a session streams something. */
    private static void checkStreams(boolean tty, boolean stdin, boolean stdout, boolean stderr) {
        if (tty && stderr) {
            throw new CriException.InvalidArgument("tty and stderr cannot both be true");
        }
        if (!stdin && !stdout && !stderr) {
            throw new CriException.InvalidArgument("one of stdin, stdout, or stderr must be set");
        }
    }

    /** Ends every session of a container, or of a pod and its containers (after stop or remove). */
    public void endSessions(String id) {
        sessions.endFor(id);
    }

    /** Sessions open now. */
    public int sessions() {
        return sessions.size();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        sessions.endAll();
        loop.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}

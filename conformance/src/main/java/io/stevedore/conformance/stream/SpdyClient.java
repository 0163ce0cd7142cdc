package io.stevedore.conformance.stream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.spdy.DefaultSpdyDataFrame;
import io.netty.handler.codec.spdy.DefaultSpdyGoAwayFrame;
import io.netty.handler.codec.spdy.DefaultSpdyPingFrame;
import io.netty.handler.codec.spdy.DefaultSpdyRstStreamFrame;
import io.netty.handler.codec.spdy.DefaultSpdySynStreamFrame;
import io.netty.handler.codec.spdy.SpdyDataFrame;
import io.netty.handler.codec.spdy.SpdyFrameCodec;
import io.netty.handler.codec.spdy.SpdyGoAwayFrame;
import io.netty.handler.codec.spdy.SpdyHeadersFrame;
import io.netty.handler.codec.spdy.SpdyPingFrame;
import io.netty.handler.codec.spdy.SpdyRstStreamFrame;
import io.netty.handler.codec.spdy.SpdyStreamStatus;
import io.netty.handler.codec.spdy.SpdySynReplyFrame;
import io.netty.handler.codec.spdy.SpdySynStreamFrame;
import io.netty.handler.codec.spdy.SpdyVersion;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A SPDY/3.1 client as kubectl's ({@code k8s.io/apimachinery/pkg/util/httpstream/spdy} over
 * {@code moby/spdystream}) speaks it to a kubelet-style streaming server: an HTTP/1.1 upgrade to
 * {@code SPDY/3.1} that negotiates one {@code X-Stream-Protocol-Version}, then client-initiated
 * streams (odd ids) opened with SYN_STREAM headers and answered with SYN_REPLY, DATA both ways,
 * half-close with FIN and abort with RST_STREAM.
 *
 * <p>Like spdystream it ignores SPDY flow control: it never sends WINDOW_UPDATE and never waits
 * for one, so a server that depends on them stalls here as it would with kubectl. It uses Netty's
 * {@link SpdyFrameCodec} for framing and header compression only, not its session handler. The
 * transport is either a plain upgraded TCP connection ({@link #connect}) or SPDY tunnelled in
 * binary WebSocket messages ({@link #connectOverWebSocket}, as client-go's port-forward tunnel).
 *
 * <p>Every blocking call gives up after {@link #timeout()} (default 60 s) so a stuck server fails
 * a test instead of hanging it.
 *
 * {@snippet :
 * try (var spdy = SpdyClient.connect(URI.create(url), "POST", List.of("v4.channel.k8s.io"))) {
 *   var error = spdy.open(Map.of("streamtype", "error"));
 *   var stdout = spdy.open(Map.of("streamtype", "stdout"));
 *   String out = new String(stdout.input().readAllBytes());
 * }
 * }
 */
public final class SpdyClient implements AutoCloseable {
    /** The HTTP header that offers (repeated) and answers the sub-protocol. */
    public static final String PROTOCOL_HEADER = "X-Stream-Protocol-Version";

    private static final int CHUNK = 32 * 1024;
    private static final long PAUSE_READING_AT = 8L << 20;
    private static final long RESUME_READING_AT = 2L << 20;

    private final Channel channel;
    private final String protocol;
    private final Map<Integer, Stream> streams = new ConcurrentHashMap<>();
    private final AtomicInteger nextId = new AtomicInteger(1);
    private final AtomicInteger nextPing = new AtomicInteger(1);
    private final Map<Integer, CompletableFuture<Void>> pings = new ConcurrentHashMap<>();
    private final AtomicLong buffered = new AtomicLong();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private volatile Duration timeout = Duration.ofSeconds(60);
    private volatile Integer goAwayStatus;

    private SpdyClient(Channel channel, String protocol) {
        this.channel = channel;
        this.protocol = protocol;
        channel.closeFuture().addListener(f -> onClosed());
    }

    /**
     * Upgrades {@code url} to SPDY/3.1 offering {@code protocols} (in order of preference) in
     * {@value #PROTOCOL_HEADER} headers; {@code method} is {@code POST} (kubectl) or {@code GET}.
     *
     * @throws UpgradeFailedException when the server does not answer 101 (e.g. 404 for a bad token)
     */
    public static SpdyClient connect(URI url, String method, List<String> protocols) throws IOException {
        var headers = new ArrayList<Map.Entry<String, String>>();
        headers.add(Map.entry("Connection", "Upgrade"));
        headers.add(Map.entry("Upgrade", "SPDY/3.1"));
        for (String p : protocols) {
            headers.add(Map.entry(PROTOCOL_HEADER, p));
        }
        var frames = new FrameHandler();
        var up = HttpUpgrade.upgrade(url, method, headers, p -> install(p, frames));
        String upgrade = up.header("upgrade");
        if (upgrade == null || !upgrade.equalsIgnoreCase("SPDY/3.1")) {
            up.channel().close();
            throw new IOException("101 answer without Upgrade: SPDY/3.1 (got " + upgrade + ")");
        }
        var c = new SpdyClient(up.channel(), up.header(PROTOCOL_HEADER.toLowerCase(java.util.Locale.ROOT)));
        frames.client.complete(c);
        return c;
    }

    /**
     * Opens a WebSocket to {@code url} offering {@code subprotocols} (e.g. {@code
     * SPDY/3.1+portforward.k8s.io}) and speaks SPDY/3.1 inside its binary messages, with no HTTP
     * upgrade inside the tunnel. {@link #protocol()} is then the negotiated WebSocket subprotocol.
     */
    public static SpdyClient connectOverWebSocket(URI url, List<String> subprotocols) throws IOException {
        var frames = new FrameHandler();
        var ws = WsHandshake.open(url, subprotocols, Integer.MAX_VALUE, p -> {
            p.addLast("ws-tunnel", new WsTunnel());
            install(p, frames);
        });
        var c = new SpdyClient(ws.channel(), ws.subprotocol());
        frames.client.complete(c);
        return c;
    }

    private static void install(ChannelPipeline p, FrameHandler frames) {
        p.addLast("spdy-codec", new SpdyFrameCodec(SpdyVersion.SPDY_3_1));
        p.addLast("spdy-client", frames);
    }

    /** The negotiated {@value #PROTOCOL_HEADER} (or WebSocket subprotocol); null when none was. */
    public String protocol() {
        return protocol;
    }

    public Duration timeout() {
        return timeout;
    }

    /** How long a blocking read, stream open or write waits before failing. */
    public SpdyClient timeout(Duration t) {
        this.timeout = t;
        return this;
    }

    /** True while the connection is open. */
    public boolean isOpen() {
        return channel.isActive();
    }

    /** Completes when the connection closes (either side). */
    public CompletableFuture<Void> closeFuture() {
        return closed;
    }

    /** The GOAWAY status the server sent, if it sent one. */
    public Integer goAwayStatus() {
        return goAwayStatus;
    }

    /**
     * Opens a stream: SYN_STREAM with {@code headers} (names in lower case, as spdystream sends
     * them), then waits for the server's SYN_REPLY.
     *
     * @throws IOException when the server resets the stream instead, or does not answer in time
     */
    public Stream open(Map<String, String> headers) throws IOException {
        Stream s = openAsync(headers);
        s.awaitReply();
        return s;
    }

    /** Sends SYN_STREAM and returns without waiting for the reply ({@link Stream#awaitReply()}). */
    public Stream openAsync(Map<String, String> headers) throws IOException {
        int id = nextId.getAndAdd(2);
        var s = new Stream(id, new LinkedHashMap<>(headers));
        streams.put(id, s);
        var syn = new DefaultSpdySynStreamFrame(id, 0, (byte) 0);
        headers.forEach((k, v) -> syn.headers().add(k.toLowerCase(java.util.Locale.ROOT), v));
        await(channel.writeAndFlush(syn), "SYN_STREAM " + id);
        return s;
    }

    /** Sends a PING and waits for the server to echo it. */
    public void ping() throws IOException {
        int id = nextPing.getAndAdd(2);
        var f = new CompletableFuture<Void>();
        pings.put(id, f);
        await(channel.writeAndFlush(new DefaultSpdyPingFrame(id)), "PING");
        get(f, "PING reply");
    }

    /** Closes the connection politely: GOAWAY, then the TCP (or WebSocket) connection. */
    @Override
    public void close() {
        if (channel.isActive()) {
            channel.writeAndFlush(new DefaultSpdyGoAwayFrame(0));
        }
        channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /** Drops the connection at once, as a client that dies would (no GOAWAY, no FIN). */
    public void abort() {
        channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    private void onClosed() {
        for (Stream s : streams.values()) {
            s.connectionClosed();
        }
        for (var p : pings.values()) {
            p.completeExceptionally(new IOException("connection closed"));
        }
        closed.complete(null);
    }

    private void await(ChannelFuture f, String what) throws IOException {
        try {
            if (!f.await(timeout.toMillis())) {
                throw new SocketTimeoutException(what + " not written within " + timeout);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(what);
        }
        if (!f.isSuccess()) {
            throw new IOException("cannot write " + what, f.cause());
        }
    }

    private <T> T get(CompletableFuture<T> f, String what) throws IOException {
        try {
            return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } catch (TimeoutException e) {
            throw new SocketTimeoutException("no " + what + " within " + timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(what);
        }
    }

    private void consumed(int n) {
        if (buffered.addAndGet(-n) < RESUME_READING_AT && !channel.config().isAutoRead()) {
            channel.config().setAutoRead(true);
        }
    }

    /** The reason a stream ended abnormally, as read by {@link Stream#input()}. */
    public static final class StreamResetException extends IOException {
        private final int status;

        StreamResetException(int id, int status) {
            super("stream " + id + " reset by the server: " + SpdyStreamStatus.valueOf(status));
            this.status = status;
        }

        /** The RST_STREAM status code (e.g. 5 CANCEL, 1 PROTOCOL_ERROR). */
        public int status() {
            return status;
        }
    }

    private static final Object EOF = new Object();

    /**
     * One SPDY stream: the server's data as a blocking {@link InputStream} that ends at the
     * server's FIN (and throws {@link StreamResetException} after a RST_STREAM), and an {@link
     * OutputStream} whose {@code close()} half-closes (FIN) this side.
     */
    public final class Stream {
        private final int id;
        private final Map<String, String> headers;
        private final CompletableFuture<Map<String, String>> reply = new CompletableFuture<>();
        private final BlockingQueue<Object> incoming = new LinkedBlockingQueue<>();
        private final Input input = new Input();
        private final Output output = new Output();
        private volatile boolean localClosed;
        private volatile boolean finReceived;

        private Stream(int id, Map<String, String> headers) {
            this.id = id;
            this.headers = headers;
        }

        public int id() {
            return id;
        }

        /** The headers this stream was opened with. */
        public Map<String, String> headers() {
            return headers;
        }

        /** Waits for SYN_REPLY; returns its headers. */
        public Map<String, String> awaitReply() throws IOException {
            return get(reply, "SYN_REPLY for stream " + id + " " + headers);
        }

        /** What the server sends on this stream; EOF at its FIN. */
        public InputStream input() {
            return input;
        }

        /** What this side sends; {@code close()} sends FIN. */
        public OutputStream output() {
            return output;
        }

        /** Reads the server's side of the stream to its FIN, as UTF-8. */
        public String readAll() throws IOException {
            return new String(input.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }

        /** Aborts the stream: RST_STREAM CANCEL. */
        public void reset() throws IOException {
            localClosed = true;
            await(channel.writeAndFlush(new DefaultSpdyRstStreamFrame(id, SpdyStreamStatus.CANCEL)), "RST_STREAM");
        }

        /** Sends FIN (an empty last DATA frame) unless this side is already closed. */
        public void halfClose() throws IOException {
            output.close();
        }

        void onReply(Map<String, String> h) {
            reply.complete(h);
        }

        void onData(byte[] data, boolean last) {
            if (data.length > 0) {
                incoming.add(data);
            }
            if (last) {
                finReceived = true;
                incoming.add(EOF);
            }
        }

        void onReset(int status) {
            var e = new StreamResetException(id, status);
            reply.completeExceptionally(e);
            incoming.add(e);
        }

        void connectionClosed() {
            reply.completeExceptionally(new IOException("connection closed before SYN_REPLY for stream " + id));
            // as spdystream: the end of the connection ends every stream's data (EOF, not an error)
            incoming.add(EOF);
        }

        /** True once the server's FIN (not just the end of the connection) ended this stream. */
        public boolean finReceived() {
            return finReceived;
        }

        private final class Input extends InputStream {
            private byte[] current;
            private int pos;
            private Object end;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return 0;
                }
                if (current == null || pos == current.length) {
                    if (!fill()) {
                        return -1;
                    }
                }
                int n = Math.min(len, current.length - pos);
                System.arraycopy(current, pos, b, off, n);
                pos += n;
                return n;
            }

            @Override
            public int available() {
                return current == null ? 0 : current.length - pos;
            }

            private boolean fill() throws IOException {
                if (end != null) {
                    return finish();
                }
                Object o;
                try {
                    o = incoming.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException();
                }
                if (o == null) {
                    throw new SocketTimeoutException("no data on stream " + id + " " + headers + " within " + timeout);
                }
                if (o instanceof byte[] data) {
                    consumed(data.length);
                    current = data;
                    pos = 0;
                    return true;
                }
                end = o;
                return finish();
            }

            private boolean finish() throws IOException {
                if (end == EOF) {
                    return false;
                }
                throw (IOException) end;
            }
        }

        private final class Output extends OutputStream {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (localClosed) {
                    throw new IOException("stream " + id + " already closed on this side");
                }
                while (len > 0) {
                    int n = Math.min(len, CHUNK);
                    ByteBuf buf = Unpooled.copiedBuffer(b, off, n);
                    ChannelFuture f = channel.writeAndFlush(new DefaultSpdyDataFrame(id, buf));
                    if (!channel.isWritable()) {
                        await(f, "DATA on stream " + id); // TCP push-back: let the socket drain
                    } else if (f.isDone() && !f.isSuccess()) {
                        throw new IOException("cannot write on stream " + id, f.cause());
                    }
                    off += n;
                    len -= n;
                }
            }

            @Override
            public void close() throws IOException {
                if (localClosed) {
                    return;
                }
                localClosed = true;
                SpdyDataFrame fin = new DefaultSpdyDataFrame(id);
                fin.setLast(true);
                await(channel.writeAndFlush(fin), "FIN on stream " + id);
            }
        }
    }

    /** Handles the server's frames on the event loop. */
    private static final class FrameHandler extends ChannelInboundHandlerAdapter {
        final CompletableFuture<SpdyClient> client = new CompletableFuture<>();
        private final List<Object> early = new ArrayList<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            SpdyClient c = client.getNow(null);
            if (c == null) {
                // frames that arrive with the 101, before the client object exists; cannot happen for
                // streams (the client opens them all), but a PING or SETTINGS may
                early.add(msg);
                ctx.channel().eventLoop().execute(() -> drain(ctx));
                return;
            }
            drain(ctx);
            try {
                handle(c, ctx, msg);
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void drain(ChannelHandlerContext ctx) {
            SpdyClient c = client.getNow(null);
            if (c == null) {
                ctx.channel().eventLoop().schedule(() -> drain(ctx), 1, TimeUnit.MILLISECONDS);
                return;
            }
            var pending = new ArrayList<>(early);
            early.clear();
            for (Object o : pending) {
                try {
                    handle(c, ctx, o);
                } finally {
                    ReferenceCountUtil.release(o);
                }
            }
        }

        private void handle(SpdyClient c, ChannelHandlerContext ctx, Object msg) {
            switch (msg) {
                case SpdyDataFrame d -> {
                    Stream s = c.streams.get(d.streamId());
                    if (s == null) {
                        return;
                    }
                    byte[] data = new byte[d.content().readableBytes()];
                    d.content().readBytes(data);
                    if (c.buffered.addAndGet(data.length) > PAUSE_READING_AT) {
                        ctx.channel().config().setAutoRead(false);
                    }
                    s.onData(data, d.isLast());
                }
                case SpdySynReplyFrame r -> {
                    Stream s = c.streams.get(r.streamId());
                    if (s != null) {
                        s.onReply(headers(r));
                        if (r.isLast()) {
                            s.onData(new byte[0], true);
                        }
                    }
                }
                case SpdyRstStreamFrame r -> {
                    Stream s = c.streams.get(r.streamId());
                    if (s != null) {
                        s.onReset(r.status().code());
                    }
                }
                case SpdySynStreamFrame syn ->
                    // the kubelet protocols never have the server open streams
                    ctx.writeAndFlush(new DefaultSpdyRstStreamFrame(syn.streamId(), SpdyStreamStatus.REFUSED_STREAM));
                case SpdyHeadersFrame h -> {
                    if (h.isLast()) {
                        Stream s = c.streams.get(h.streamId());
                        if (s != null) {
                            s.onData(new byte[0], true);
                        }
                    }
                }
                case SpdyPingFrame p -> {
                    if ((p.id() & 1) == 0) {
                        ctx.writeAndFlush(new DefaultSpdyPingFrame(p.id())); // the server's: echo it
                    } else {
                        var f = c.pings.remove(p.id());
                        if (f != null) {
                            f.complete(null);
                        }
                    }
                }
                case SpdyGoAwayFrame g -> c.goAwayStatus = g.status().code();
                default -> {
                    // SETTINGS, WINDOW_UPDATE (ignored, as spdystream ignores flow control), leftovers
                }
            }
        }

        private static Map<String, String> headers(SpdyHeadersFrame f) {
            var m = new LinkedHashMap<String, String>();
            for (var e : f.headers()) {
                m.put(e.getKey().toString(), e.getValue().toString());
            }
            return m;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** Raw bytes to binary WebSocket messages and back, for SPDY tunnelled in a WebSocket. */
    private static final class WsTunnel extends io.netty.channel.ChannelDuplexHandler {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            switch (msg) {
                case io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame f -> ctx.fireChannelRead(f.content());
                case io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame f ->
                    ctx.fireChannelRead(f.content());
                case io.netty.handler.codec.http.websocketx.PingWebSocketFrame f ->
                    ctx.writeAndFlush(new io.netty.handler.codec.http.websocketx.PongWebSocketFrame(f.content()));
                case io.netty.handler.codec.http.websocketx.CloseWebSocketFrame f -> {
                    f.release();
                    ctx.close();
                }
                default -> ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, io.netty.channel.ChannelPromise promise) {
            if (msg instanceof ByteBuf b) {
                ctx.write(new io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame(b), promise);
            } else {
                ctx.write(msg, promise);
            }
        }

        @Override
        public void close(ChannelHandlerContext ctx, io.netty.channel.ChannelPromise promise) {
            if (ctx.channel().isActive()) {
                ctx.writeAndFlush(new io.netty.handler.codec.http.websocketx.CloseWebSocketFrame(1000, ""));
            }
            ctx.close(promise);
        }
    }
}

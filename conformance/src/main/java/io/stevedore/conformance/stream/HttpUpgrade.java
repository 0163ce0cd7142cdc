package io.stevedore.conformance.stream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * A plain HTTP/1.1 upgrade (as {@code k8s.io/apimachinery}'s SPDY round tripper sends it): one
 * request with {@code Connection: Upgrade}, then either {@code 101 Switching Protocols}, after
 * which the connection carries the new protocol's bytes, or an error answer.
 *
 * <p>Written by hand rather than with Netty's HTTP codec so that no byte that follows the 101 can
 * be lost or reinterpreted: the bytes after the blank line go to whatever handlers the caller
 * installs, in the same event-loop turn.
 */
final class HttpUpgrade {
    private HttpUpgrade() {}

    /** A successful upgrade: the connection and the 101's headers (names in lower case). */
    record Upgraded(Channel channel, Map<String, List<String>> headers) {
        String header(String name) {
            List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
            return v == null || v.isEmpty() ? null : v.getFirst();
        }
    }

    /**
     * Sends {@code method url} with the given headers (each may repeat) and waits for the answer.
     * On 101, {@code afterUpgrade} adds the handlers for the new protocol to the pipeline before
     * any byte after the answer is passed on.
     *
     * @throws UpgradeFailedException for any answer other than 101
     */
    static Upgraded upgrade(
            URI url, String method, List<Map.Entry<String, String>> headers, Consumer<ChannelPipeline> afterUpgrade)
            throws IOException {
        var handler = new Handler(afterUpgrade);
        Channel ch = StreamLoop.connect(url, c -> c.pipeline().addLast("http-upgrade", handler));
        var req = new StringBuilder();
        String path = url.getRawPath() + (url.getRawQuery() != null ? "?" + url.getRawQuery() : "");
        req.append(method).append(' ').append(path).append(" HTTP/1.1\r\n");
        req.append("Host: ")
                .append(url.getHost())
                .append(url.getPort() != -1 ? ":" + url.getPort() : "")
                .append("\r\n");
        if (method.equals("POST")) {
            req.append("Content-Length: 0\r\n");
        }
        for (var h : headers) {
            req.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
        }
        req.append("\r\n");
        ch.writeAndFlush(Unpooled.copiedBuffer(req, StandardCharsets.US_ASCII));
        try {
            var headersOut = handler.result.get(30, TimeUnit.SECONDS);
            return new Upgraded(ch, headersOut);
        } catch (ExecutionException e) {
            ch.close();
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException(e.getCause());
        } catch (TimeoutException e) {
            ch.close();
            throw new IOException("no answer to the upgrade request within 30 s", e);
        } catch (InterruptedException e) {
            ch.close();
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    private static final class Handler extends ChannelInboundHandlerAdapter {
        final CompletableFuture<Map<String, List<String>>> result = new CompletableFuture<>();
        private final Consumer<ChannelPipeline> afterUpgrade;
        private ByteBuf buf;
        private int status = -1;
        private Map<String, List<String>> headers;
        private int headerEnd = -1;

        Handler(Consumer<ChannelPipeline> afterUpgrade) {
            this.afterUpgrade = afterUpgrade;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            buf = ctx.alloc().buffer();
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            if (buf != null) {
                buf.release();
                buf = null;
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            try {
                buf.writeBytes(in);
            } finally {
                in.release();
            }
            if (headerEnd < 0) {
                int end = indexOf(buf, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                if (end < 0) {
                    if (buf.readableBytes() > 64 * 1024) {
                        fail(ctx, new IOException("upgrade answer headers longer than 64 KiB"));
                    }
                    return;
                }
                headerEnd = end + 4;
                parse(buf.toString(buf.readerIndex(), end, StandardCharsets.ISO_8859_1));
                buf.skipBytes(headerEnd);
                if (status == 101) {
                    afterUpgrade.accept(ctx.pipeline());
                    ByteBuf rest = buf;
                    buf = null;
                    result.complete(headers);
                    ctx.pipeline().remove(this);
                    if (rest.isReadable()) {
                        ctx.fireChannelRead(rest);
                        ctx.fireChannelReadComplete();
                    } else {
                        rest.release();
                    }
                    return;
                }
            }
            // an error answer: wait for its body (Content-Length) or the end of the connection
            String cl = first("content-length");
            if (cl != null && buf.readableBytes() >= Integer.parseInt(cl.trim())) {
                refuse(ctx);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (status > 0 && status != 101) {
                refuse(ctx);
            } else {
                result.completeExceptionally(new IOException("connection closed before an answer to the upgrade"));
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            fail(ctx, cause instanceof IOException io ? io : new IOException(cause));
        }

        private void refuse(ChannelHandlerContext ctx) {
            String body = buf == null ? "" : buf.toString(StandardCharsets.UTF_8);
            fail(ctx, new UpgradeFailedException(status, body));
        }

        private void fail(ChannelHandlerContext ctx, IOException e) {
            if (result.completeExceptionally(e)) {
                ctx.close();
            }
        }

        private String first(String name) {
            List<String> v = headers.get(name);
            return v == null ? null : v.getFirst();
        }

        private void parse(String head) {
            String[] lines = head.split("\r\n");
            String[] statusLine = lines[0].split(" ", 3);
            if (statusLine.length < 2 || !statusLine[0].startsWith("HTTP/1.")) {
                throw new IllegalStateException("not an HTTP/1.x answer: " + lines[0]);
            }
            status = Integer.parseInt(statusLine[1]);
            headers = new java.util.LinkedHashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon > 0) {
                    headers.computeIfAbsent(
                                    lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
                                    k -> new ArrayList<>())
                            .add(lines[i].substring(colon + 1).trim());
                }
            }
        }

        private static int indexOf(ByteBuf b, byte[] needle) {
            outer:
            for (int i = b.readerIndex(); i <= b.writerIndex() - needle.length; i++) {
                for (int j = 0; j < needle.length; j++) {
                    if (b.getByte(i + j) != needle[j]) {
                        continue outer;
                    }
                }
                return i - b.readerIndex();
            }
            return -1;
        }
    }
}

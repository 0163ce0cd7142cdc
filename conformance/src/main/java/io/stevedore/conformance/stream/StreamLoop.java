package io.stevedore.conformance.stream;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.URI;
import java.util.function.Consumer;

/**
 * The one Netty event loop group that all streaming clients of the suite share (daemon threads, so
 * a forgotten client never keeps the test JVM alive), and the TCP connect they all start with.
 * Clients block the calling (test) thread, never the event loop.
 */
final class StreamLoop {
    private static final EventLoopGroup GROUP = new MultiThreadIoEventLoopGroup(
            2, new DefaultThreadFactory("stream-client", true), NioIoHandler.newFactory());

    private StreamLoop() {}

    /** Connects to the host and port of {@code url} (http or ws); {@code init} sets up the pipeline. */
    static Channel connect(URI url, Consumer<Channel> init) throws IOException {
        int port = url.getPort() != -1 ? url.getPort() : 80;
        var b = new Bootstrap()
                .group(GROUP)
                .channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        init.accept(ch);
                    }
                });
        var f = b.connect(url.getHost(), port).awaitUninterruptibly();
        if (!f.isSuccess()) {
            throw new IOException("cannot connect to " + url.getHost() + ":" + port, f.cause());
        }
        return f.channel();
    }
}

package io.stevedore.conformance;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import io.stevedore.cri.v1.ImageServiceGrpc;
import io.stevedore.cri.v1.RuntimeServiceGrpc;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** A CRI client over a Unix socket, as kubelet and crictl connect. Close it after use. */
public final class CriClient implements AutoCloseable {
    private final EventLoopGroup loop;
    private final ManagedChannel channel;

    private CriClient(EventLoopGroup loop, ManagedChannel channel) {
        this.loop = loop;
        this.channel = channel;
    }

    /** @param interceptors see every call, e.g. to record status codes */
    public static CriClient connect(Path socket, io.grpc.ClientInterceptor... interceptors) {
        EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(loop)
                .usePlaintext()
                .maxInboundMessageSize(16 * 1024 * 1024)
                .intercept(interceptors)
                .build();
        return new CriClient(loop, channel);
    }

    /** The RuntimeService, with a 30 s deadline on every call so a hang fails the test. */
    public RuntimeServiceGrpc.RuntimeServiceBlockingStub runtime() {
        return RuntimeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    /** The ImageService, with a 5 min deadline (pulls). */
    public ImageServiceGrpc.ImageServiceBlockingStub images() {
        return ImageServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.MINUTES);
    }

    public ManagedChannel channel() {
        return channel;
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        loop.shutdownGracefully(0, 0, TimeUnit.SECONDS);
    }
}

package io.stevedore.server.grpc;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC server on the CRI Unix socket: Netty epoll for I/O, one virtual thread per call for the
 * handlers (which may block on runc, CNI and disk).
 *
 * <p>The socket appears with its final owner and mode (root, its group, 0660) or not at all: it is
 * bound under a temporary name in the same directory, chown-ed to its group, chmod-ed, then renamed
 * into place. Only root and members of that group may connect: whoever can talk CRI can run a
 * privileged container. A socket file left by a dead daemon is replaced; one that still answers is
 * not touched.
 */
public final class UdsGrpcServer {
    private final Server server;
    private final EventLoopGroup loop;
    private final ExecutorService handlers;
    private final Path socket;

    private UdsGrpcServer(Server server, EventLoopGroup loop, ExecutorService handlers, Path socket) {
        this.server = server;
        this.loop = loop;
        this.handlers = handlers;
        this.socket = socket;
    }

    /**
     * Binds {@code socket}, owned by {@code group}, and starts serving {@code services}.
     *
     * @param group a group name or numeric gid; empty for root's group (gid 0)
     * @throws IOException also when {@code group} names no group, before anything is bound
     */
    public static UdsGrpcServer start(Path socket, String group, List<BindableService> services) throws IOException {
        GroupPrincipal owner = group(group);
        Path dir = socket.toAbsolutePath().getParent();
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
        }
        if (Files.exists(socket) && answers(socket)) {
            throw new IOException("socket " + socket + " is already served by another process");
        }
        Path tmp = dir.resolve(
                "." + socket.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        Files.deleteIfExists(tmp);

        EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        ExecutorService handlers = Executors.newThreadPerTaskExecutor(
                Thread.ofVirtual().name("cri-", 0).factory());
        var builder = NettyServerBuilder.forAddress(new DomainSocketAddress(tmp.toString()))
                .channelType(EpollServerDomainSocketChannel.class)
                .bossEventLoopGroup(loop)
                .workerEventLoopGroup(loop)
                .executor(handlers)
                // kubelet sends large ListContainers answers back, not requests; 16 MiB as containerd.
                .maxInboundMessageSize(16 * 1024 * 1024);
        services.forEach(builder::addService);
        Server server = builder.build();
        try {
            server.start();
            var attrs = Files.getFileAttributeView(tmp, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
            if (!attrs.readAttributes().group().equals(owner)) {
                attrs.setGroup(owner); // lchown: a socket cannot be opened
            }
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-rw----"));
            Files.move(tmp, socket, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            server.shutdownNow();
            Files.deleteIfExists(tmp);
            loop.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            handlers.shutdownNow();
            throw e;
        }
        return new UdsGrpcServer(server, loop, handlers, socket);
    }

    /**
     * Stops accepting, removes the socket, lets in-flight calls finish for at most {@code grace},
     * then cancels what is left.
     */
    public void shutdown(Duration grace) throws InterruptedException {
        server.shutdown();
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            // not fatal: the next daemon replaces a stale socket
        }
        if (!server.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
            server.shutdownNow();
            server.awaitTermination(1, TimeUnit.SECONDS);
        }
        handlers.shutdownNow();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(2, TimeUnit.SECONDS);
    }

    /** {@code name} (or a numeric gid; {@code ""} for 0) as a principal that {@code lchown} takes. */
    static GroupPrincipal group(String name) throws IOException {
        try {
            // The JDK's lookup tries getgrnam first, then takes a number as a gid, as chown(1) does.
            return FileSystems.getDefault()
                    .getUserPrincipalLookupService()
                    .lookupPrincipalByGroupName(name.isEmpty() ? "0" : name);
        } catch (UserPrincipalNotFoundException e) {
            throw new IOException("socket_group \"" + name + "\": no such group", e);
        }
    }

    private static boolean answers(Path socket) {
        try (var ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            return ch.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            return false;
        }
    }
}

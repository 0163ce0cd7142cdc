package io.stevedore.server;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import io.stevedore.cri.v1.ImageFsInfoRequest;
import io.stevedore.cri.v1.ImageServiceGrpc;
import io.stevedore.cri.v1.ImageSpec;
import io.stevedore.cri.v1.ImageStatusRequest;
import io.stevedore.cri.v1.ListImagesRequest;
import io.stevedore.cri.v1.ListPodSandboxRequest;
import io.stevedore.cri.v1.RuntimeConfigRequest;
import io.stevedore.cri.v1.RuntimeServiceGrpc;
import io.stevedore.cri.v1.StartContainerRequest;
import io.stevedore.cri.v1.StatusRequest;
import io.stevedore.cri.v1.VersionRequest;
import io.stevedore.server.logging.Logging;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The training run for the daemon's AOT cache (JEP 483/514), run by the build through {@code
 * STEVEDORE_AOT_TRAIN=1 bin/stevedore}: it does what every daemon start does — read a
 * configuration file, set up logging, bind the socket, answer the first calls kubelet makes —
 * in a private directory, then exits. The JVM records the classes this loads and links, and the
 * cache lets the real daemon skip that work (start-up time is a measured figure: see
 * docs/PERFORMANCE.md). Not for operators.
 */
public final class AotTraining {
    private AotTraining() {}

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("stevedore-aot-");
        try {
            train(dir);
        } finally {
            try (Stream<Path> all = Files.walk(dir)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
        System.exit(0);
    }

    private static void train(Path dir) throws Exception {
        Path file = dir.resolve("stevedore.toml");
        Files.writeString(file, """
        root = "%1$s/root"
        run_root = "%1$s/run"
        shutdown_timeout = "2s"
        [log]
        level = "info"
        file = "%1$s/daemon.log"
        [runtime]
        cgroup_driver = "cgroupfs"
        [runtime.handlers.runc]
        path = "runc"
        [cni]
        conf_dir = "%1$s/net.d"
        bin_dirs = ["%1$s/cni"]
        [image]
        registry_config_dir = "%1$s/certs.d"
        """.formatted(dir));
        DaemonConfig config = Flags.parse("--config", file.toString()).applyTo(new ConfigLoader().load(file, true));
        Logging.configure("info", config.logFile());
        var daemon = new CriDaemon(config);
        daemon.start();
        try {
            calls(config.socket());
        } finally {
            daemon.close();
            Logging.configure("info", Optional.empty());
        }
    }

    private static void calls(Path socket) throws IOException, InterruptedException {
        var loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        ManagedChannel ch = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(loop)
                .usePlaintext()
                .build();
        try {
            var runtime = RuntimeServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
            var images = ImageServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
            for (int i = 0; i < 20; i++) {
                runtime.version(VersionRequest.getDefaultInstance());
                runtime.status(StatusRequest.newBuilder().setVerbose(i % 2 == 0).build());
                runtime.runtimeConfig(RuntimeConfigRequest.getDefaultInstance());
                images.imageFsInfo(ImageFsInfoRequest.getDefaultInstance());
                images.listImages(ListImagesRequest.getDefaultInstance());
                images.imageStatus(ImageStatusRequest.newBuilder()
                        .setImage(ImageSpec.newBuilder().setImage("busybox"))
                        .build());
                runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance());
                runtime.listContainers(io.stevedore.cri.v1.ListContainersRequest.getDefaultInstance());
                expectError(() -> runtime.containerStatus(io.stevedore.cri.v1.ContainerStatusRequest.newBuilder()
                        .setContainerId("nothing")
                        .build()));
                expectError(() -> runtime.startContainer(StartContainerRequest.getDefaultInstance()));
            }
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            loop.shutdownGracefully(0, 0, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        }
    }

    private static void expectError(Runnable call) {
        try {
            call.run();
        } catch (StatusRuntimeException expected) {
            return;
        }
        throw new IllegalStateException("the training call was expected to fail");
    }
}

package io.stevedore.server.container;

import io.stevedore.cri.v1.ContainerConfig;
import io.stevedore.cri.v1.ContainerMetadata;
import io.stevedore.cri.v1.ImageSpec;
import io.stevedore.cri.v1.PodSandboxConfig;
import io.stevedore.cri.v1.PodSandboxMetadata;
import io.stevedore.oci.linux.LinuxSyscalls;
import io.stevedore.server.container.spec.ContainerSpecGenerator;
import io.stevedore.server.container.spec.PodContext;
import io.stevedore.server.error.CriException;
import io.stevedore.server.events.LifecycleEvents;
import io.stevedore.server.host.Runtimes;
import io.stevedore.server.image.manifest.ImageConfig;
import io.stevedore.server.image.store.ImageRecord;
import io.stevedore.server.state.StateLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A {@link ContainerService} over fakes, in a temp directory, runnable by any user: a fake pod
 * ("pod1", ready), one fake image ("busybox"), {@link FakeShims}, {@link FakeOciRuntime} and
 * {@link RecordingRootfs}. Close it after the test: it kills what the fake shims started.
 */
final class ContainerHarness implements AutoCloseable {
    static final String POD = "pod1";
    static final String HANDLER = "runc";
    /** The chain id of the one layer of image "data:1", whose files are in {@link #dataLayer()}. */
    static final String DATA_CHAIN_ID = "sha256:" + "a".repeat(64);

    final Path dir;
    final FakeShims shims = new FakeShims();
    final FakeOciRuntime runtime = new FakeOciRuntime(shims);
    final RecordingRootfs rootfs = new RecordingRootfs();
    final Runtimes runtimes;
    /** What CheckpointContainer's CRIU check answers; a test may replace it. */
    volatile io.stevedore.server.container.checkpoint.Criu criu = () -> Path.of("/fake/criu");

    final ContainerEnv env;
    final LifecycleEvents events;
    ContainerService service;

    ContainerHarness(Path dir) throws IOException {
        this(dir, null);
    }

    /**
     * @param pods the pods containers are made in, given the harness's runtimes; null for one fake
     *     pod ({@link #POD})
     */
    ContainerHarness(Path dir, java.util.function.Function<Runtimes, Pods> pods) throws IOException {
        this(dir, pods, LifecycleEvents.NONE);
    }

    /** @param events told of the containers' transitions */
    ContainerHarness(Path dir, java.util.function.Function<Runtimes, Pods> pods, LifecycleEvents events)
            throws IOException {
        this.dir = dir;
        this.events = events;
        Path pod = Files.createDirectories(dir.resolve("pod"));
        Files.writeString(pod.resolve("hosts"), "127.0.0.1 localhost\n");
        Files.writeString(pod.resolve("resolv.conf"), "nameserver 10.0.0.10\n");
        Files.writeString(pod.resolve("hostname"), "pod1\n");
        var podConfig = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder()
                        .setName("web")
                        .setNamespace("shop")
                        .setUid("uid-1"))
                .setLogDirectory(dir.resolve("logs").toString())
                .build();
        var context = new PodContext(
                POD,
                podConfig,
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                pod.resolve("hosts"),
                pod.resolve("resolv.conf"),
                pod.resolve("hostname"),
                Optional.empty(),
                "/stevedore/" + POD);
        Pods onePod = new Pods() {
            @Override
            public Pod ready(String sandboxId, boolean sharedPid) {
                if (!sandboxId.equals(POD)) {
                    throw new CriException.NotFound("pod sandbox \"" + sandboxId + "\" not found");
                }
                return new Pod(context, HANDLER);
            }

            @Override
            public String runtimeHandler(String sandboxId) {
                return HANDLER;
            }
        };
        this.runtimes = new Runtimes(HANDLER, Map.of(HANDLER, runtime));
        Path layer = Files.createDirectories(dir.resolve("snapshots/1"));
        var image = new ImageRecord(
                "sha256:" + "b".repeat(64),
                List.of("busybox:latest"),
                List.of(),
                1,
                List.of(),
                List.of(new ImageRecord.Layer("sha256:" + "c".repeat(64), 1, "tar", "sha256:" + "d".repeat(64))),
                false);
        var config = new ImageConfig(
                "",
                List.of("PATH=/bin"),
                List.of(),
                List.of("sh"),
                "",
                Map.of(),
                "",
                Set.of(),
                Set.of(),
                "linux",
                "amd64",
                Optional.empty(),
                List.of(),
                Optional.empty(),
                "{}");
        Path dataLayer = Files.createDirectories(dir.resolve("snapshots/2/fs"));
        var data = new ImageRecord(
                "sha256:" + "e".repeat(64),
                List.of("data:1"),
                List.of(),
                1,
                List.of(),
                List.of(new ImageRecord.Layer("sha256:" + "f".repeat(64), 1, "tar", DATA_CHAIN_ID)),
                false);
        ContainerImages images = new ContainerImages() {
            @Override
            public Optional<ImageRecord> find(String ref) {
                if (ref.equals("data:1")) return Optional.of(data);
                return ref.equals("busybox") || ref.equals(image.id()) ? Optional.of(image) : Optional.empty();
            }

            @Override
            public ImageConfig config(ImageRecord i) {
                return config;
            }

            @Override
            public List<Path> layers(ImageRecord i) {
                return List.of(i == data ? dataLayer : layer);
            }
        };
        this.env = new ContainerEnv(
                new StateLayout(dir.resolve("root"), dir.resolve("run")),
                pods == null ? onePod : pods.apply(runtimes),
                images,
                runtimes,
                shims,
                rootfs,
                new ContainerSpecGenerator(new ContainerSpecGenerator.Options(0, List.of("CAP_CHOWN"), false, true)),
                new ExecOutput(1 << 20, 4 << 20),
                new LinuxSyscalls(),
                InstantSource.system(),
                () -> criu.require());
        open();
    }

    /** The layer directory of image "data:1" (empty until a test puts files in it). */
    Path dataLayer() {
        return dir.resolve("snapshots/2/fs");
    }

    /** A new service over the same directories: a daemon restart. */
    ContainerService open() throws IOException {
        if (service != null) service.close();
        service = new ContainerService(env, events);
        service.recover();
        return service;
    }

    /** A container config running {@code cmd}, named {@code name}. */
    static ContainerConfig config(String name, String... cmd) {
        return ContainerConfig.newBuilder()
                .setMetadata(ContainerMetadata.newBuilder().setName(name))
                .setImage(ImageSpec.newBuilder().setImage("busybox"))
                .addAllCommand(List.of(cmd))
                .setLogPath(name + "/0.log")
                .build();
    }

    String create(String name) {
        return service.create(POD, config(name, "sleep", "100000"));
    }

    @Override
    public void close() throws IOException {
        shims.killAll();
        if (service != null) service.close();
    }
}

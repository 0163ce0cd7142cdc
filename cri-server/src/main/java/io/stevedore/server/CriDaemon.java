package io.stevedore.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.BindableService;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.stevedore.cni.CniClient;
import io.stevedore.cni.CniClientConfig;
import io.stevedore.oci.linux.LinuxSyscalls;
import io.stevedore.server.container.ContainerEnv;
import io.stevedore.server.container.ContainerImages;
import io.stevedore.server.container.ContainerService;
import io.stevedore.server.container.ContainerStreams;
import io.stevedore.server.container.ExecOutput;
import io.stevedore.server.container.RootfsMounts;
import io.stevedore.server.container.checkpoint.CriuCheck;
import io.stevedore.server.container.spec.ContainerSpecGenerator;
import io.stevedore.server.error.CriException;
import io.stevedore.server.events.EventBus;
import io.stevedore.server.grpc.EarlyHeaders;
import io.stevedore.server.grpc.ImageGrpcService;
import io.stevedore.server.grpc.Rpc;
import io.stevedore.server.grpc.RuntimeGrpcService;
import io.stevedore.server.grpc.UdsGrpcServer;
import io.stevedore.server.host.Reaper;
import io.stevedore.server.host.Runtimes;
import io.stevedore.server.image.ImageFsUsage;
import io.stevedore.server.image.ImagePuller;
import io.stevedore.server.image.ImageService;
import io.stevedore.server.image.content.ContentStore;
import io.stevedore.server.image.manifest.Platform;
import io.stevedore.server.image.registry.RegistryClient;
import io.stevedore.server.image.registry.RegistryConfigException;
import io.stevedore.server.image.registry.RegistryHosts;
import io.stevedore.server.image.snapshot.SnapshotStore;
import io.stevedore.server.image.store.ImageStore;
import io.stevedore.server.image.unpack.LayerUnpacker;
import io.stevedore.server.info.CniNetworkReadiness;
import io.stevedore.server.info.RuntimeFeatureProbe;
import io.stevedore.server.info.RuntimeInfoService;
import io.stevedore.server.sandbox.SandboxService;
import io.stevedore.server.state.Failpoints;
import io.stevedore.server.state.StateDirs;
import io.stevedore.server.state.StateLayout;
import io.stevedore.server.stats.CgroupStats;
import io.stevedore.server.stats.StatsService;
import io.stevedore.server.streaming.StreamingServer;
import io.stevedore.shim.Pinns;
import io.stevedore.shim.ShimLauncher;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root: builds every service with plain constructor wiring, takes the state lock,
 * recovers, then serves. Nothing else news up services.
 *
 * <p>Start-up order matters: the lock comes before anything touches the state root, and the
 * socket is bound before recovery so that clients get UNAVAILABLE ("not initialized") instead of
 * "connection refused" while recovery runs.
 */
public final class CriDaemon implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CriDaemon.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * How long after start-up a new GetContainerEvents subscriber still gets the transitions recovery
     * found (exits while the daemon was down): a kubelet resubscribes within seconds of a restart.
     */
    static final Duration RECOVERY_EVENTS_REPLAY = Duration.ofMinutes(2);

    private final DaemonConfig config;
    private volatile boolean ready;
    private StateLock lock;
    private UdsGrpcServer server;
    private HealthStatusManager health;
    private SandboxService sandboxes;
    private ContainerService containers;
    private ImageService images;
    private StreamingServer streaming;
    private EventBus events;
    private HeapReturn heapReturn;
    private Reaper reaper;

    public CriDaemon(DaemonConfig config) {
        this.config = config;
    }

    /** Locks the state, binds the socket, recovers, and starts answering. */
    public void start() throws DaemonStartException {
        try {
            requireSystemdIfAsked(config.cgroupDriver(), SYSTEMD_RUNNING);
            List<String> armed = Failpoints.armed(); // refuses an unknown name before anything starts
            if (!armed.isEmpty()) log.atWarn().log("failpoints armed (crash tests only): {}", armed);
            var layout = new StateLayout(config.root(), config.runRoot());
            StateDirs.createRoots(layout);
            lock = StateLock.acquire(config.root());
            StateDirs.enforce(layout); // at every start: an install made with looser modes is fixed
            var rpc = new Rpc(() -> ready);
            var fsUsage = new ImageFsUsage(layout.snapshots(), layout.containerLayers(), InstantSource.system());
            var sys = new LinuxSyscalls();
            try {
                // Shims double-fork and detach: we adopt them, so their exits are ours to reap rather
                // than init's (which, on some machines, never reaps them).
                sys.setChildSubreaper();
            } catch (IOException e) {
                log.atWarn().log("cannot become a child subreaper: {}", e.getMessage());
            }
            var snapshots = new SnapshotStore(layout.snapshots());
            images = images(config, layout, snapshots, this::snapshotsInUse);
            Path nativeDir = Path.of(System.getProperty("stevedore.native.dir", "shim/target/native"));
            var runtimes = new Runtimes(config, layout);
            // Asked once: Status is polled every few seconds, and the runtime binary does not change
            // under a running daemon.
            var info = new RuntimeInfoService(
                    BuildInfo.version(),
                    RuntimeFeatureProbe.probe(
                            runtimes.all(), runtimes.defaultHandler(), RuntimeFeatureProbe.thisKernelHasMountSetattr()),
                    config.cgroupDriver() == DaemonConfig.CgroupDriver.SYSTEMD,
                    new CniNetworkReadiness(
                            new CniClient(CniClientConfig.defaults().withBinDirs(config.cniBinDirs())),
                            config.cniConfDir()),
                    this::verboseInfo);
            var launcher = new ShimLauncher(nativeDir.resolve("stevedore-shim"), Duration.ofSeconds(60));
            var cni = new CniClient(CniClientConfig.defaults().withBinDirs(config.cniBinDirs()));
            sandboxes = SandboxService.onHost(
                    layout,
                    new Pinns(nativeDir.resolve("stevedore-pinns"), layout.namespacePins()),
                    cni,
                    config.cniConfDir(),
                    nativeDir.resolve("stevedore-pause"),
                    runtimes,
                    sys,
                    Path.of("/sys/fs/cgroup"),
                    config.cgroupDriver() == DaemonConfig.CgroupDriver.SYSTEMD);
            reaper = Reaper.start(sys);
            events = new EventBus(
                    this::podStatus,
                    id -> containers.storedStatuses(id),
                    config.limits().containerEventsBuffer(),
                    InstantSource.system());
            sandboxes.setEvents(events);
            containers = new ContainerService(
                    new ContainerEnv(
                            layout,
                            sandboxes,
                            ContainerImages.of(images, snapshots),
                            runtimes,
                            launcher::start,
                            new RootfsMounts(sys),
                            new ContainerSpecGenerator(ContainerSpecGenerator.Options.forThisHost()),
                            new ExecOutput(
                                    config.limits().execSyncOutput(),
                                    4L * config.limits().execSyncOutput()),
                            sys,
                            java.time.InstantSource.system(),
                            new CriuCheck(config.criuPath(), Duration.ofSeconds(30))),
                    events);
            sandboxes.setContainers(containers);
            var stats = new StatsService(sandboxes, containers, new CgroupStats(Path.of("/sys/fs/cgroup")));
            streaming = StreamingServer.start(config.stream(), new ContainerStreams(containers, sandboxes));
            health = new HealthStatusManager();
            health.setStatus("", ServingStatus.NOT_SERVING);
            List<BindableService> services = List.of(
                    EarlyHeaders.around(
                            new RuntimeGrpcService(rpc, info, sandboxes, containers, stats, streaming, events)),
                    new ImageGrpcService(rpc, images, fsUsage),
                    health.getHealthService());
            server = UdsGrpcServer.start(config.socket(), config.socketGroup(), services);
        } catch (IOException e) {
            closeQuietly();
            throw new DaemonStartException("cannot start: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly();
            throw new DaemonStartException("interrupted while starting", e);
        } catch (DaemonStartException | RuntimeException e) {
            closeQuietly();
            throw e;
        }
        try {
            recover();
        } catch (IOException | RuntimeException e) {
            closeQuietly();
            throw new DaemonStartException("recovery failed: " + e.getMessage(), e);
        }
        ready = true;
        events.open(RECOVERY_EVENTS_REPLAY);
        heapReturn = HeapReturn.start(Duration.ofSeconds(5), 64L << 20);
        health.setStatus("", ServingStatus.SERVING);
        log.atInfo()
                .addKeyValue("socket", config.socket())
                .addKeyValue("root", config.root())
                .addKeyValue("version", BuildInfo.version())
                .log("stevedore is serving");
    }

    /** Exists when systemd is init (sd_booted(3)). */
    static final Path SYSTEMD_RUNNING = Path.of("/run/systemd/system");

    /**
     * The systemd driver hands every container to systemd as a transient scope; without systemd
     * each create would fail in runc, so the daemon refuses to start instead.
     */
    static void requireSystemdIfAsked(DaemonConfig.CgroupDriver driver, Path systemdRunning)
            throws DaemonStartException {
        if (driver == DaemonConfig.CgroupDriver.SYSTEMD && !java.nio.file.Files.isDirectory(systemdRunning)) {
            throw new DaemonStartException(
                    "runtime.cgroup_driver = \"systemd\" but systemd is not running on this host (" + systemdRunning
                            + " does not exist): use cgroup_driver = \"cgroupfs\", and the same driver in the kubelet");
        }
    }

    /**
     * Snapshots that containers' root file systems and image volumes are made of: image GC must keep
     * them.
     */
    private Set<String> snapshotsInUse() {
        var used = new java.util.HashSet<String>();
        if (containers != null) {
            containers.records().forEach(r -> used.addAll(r.snapshotsInUse()));
        }
        return used;
    }

    /** The image service and its stores, per StateLayout under the state root. */
    private static ImageService images(
            DaemonConfig config,
            StateLayout layout,
            SnapshotStore snapshots,
            java.util.function.Supplier<Set<String>> inUse)
            throws IOException, DaemonStartException {
        RegistryHosts hosts;
        try {
            hosts = RegistryHosts.load(config.images().registryConfigDir());
        } catch (RegistryConfigException e) {
            throw new DaemonStartException("registry configuration: " + e.getMessage(), e);
        }
        var content = new ContentStore(layout.content());
        var registry = new RegistryClient(hosts, config.images().noProgressTimeout());
        var puller = new ImagePuller(
                registry,
                content,
                snapshots,
                new LayerUnpacker(new LinuxSyscalls()),
                Platform.host(),
                config.images().maxConcurrentDownloads(),
                new ImagePuller.Limits(
                        config.images().maxLayerSize(), config.images().maxImageSize()));
        return new ImageService(new ImageStore(layout.images()), content, snapshots, puller, inUse);
    }

    /**
     * Reconciles the state store with what survived on the machine: pods first (their namespaces),
     * then containers (exits recorded by shims while we were down, vanished shims, stray bundles),
     * then images (what a pull cut short left behind).
     */
    private void recover() throws IOException {
        sandboxes.recover();
        containers.recover();
        images.recover(); // after containers: the snapshots they use must survive collection
    }

    public boolean isReady() {
        return ready;
    }

    /**
     * Stops accepting calls, lets in-flight ones finish within the configured timeout, removes the
     * socket and releases the lock. Running containers are never touched: they belong to their shims.
     */
    @Override
    public void close() throws InterruptedException {
        ready = false;
        if (health != null) {
            health.enterTerminalState();
        }
        if (events != null) {
            events.close(); // the event streams end now: they would hold the shutdown for its whole grace
        }
        if (server != null) {
            server.shutdown(config.shutdownTimeout());
            server = null;
        }
        closeQuietly();
        if (containers != null) {
            try {
                containers.close();
            } catch (IOException e) {
                log.atWarn().log("closing the exit watcher failed: {}", e.getMessage());
            }
        }
        log.info("stevedore stopped");
    }

    /** A pod's status for an event; empty once it is gone. */
    private java.util.Optional<io.stevedore.cri.v1.PodSandboxStatus> podStatus(String sandboxId) {
        try {
            return java.util.Optional.of(sandboxes.status(sandboxId));
        } catch (CriException.NotFound e) {
            return java.util.Optional.empty();
        }
    }

    private void closeQuietly() {
        if (events != null) {
            events.close();
        }
        if (heapReturn != null) {
            heapReturn.close();
            heapReturn = null;
        }
        if (reaper != null) {
            reaper.close();
            reaper = null;
        }
        if (streaming != null) {
            // after a failed start too: nothing may keep listening
            streaming.close();
            streaming = null;
        }
        if (lock != null) {
            try {
                lock.close();
            } catch (IOException e) {
                log.atWarn().setCause(e).log("releasing the state lock failed");
            }
            lock = null;
        }
    }

    private Map<String, String> verboseInfo() {
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("socket", config.socket().toString());
        cfg.put("root", config.root().toString());
        cfg.put("runRoot", config.runRoot().toString());
        cfg.put("cgroupDriver", config.cgroupDriver().name().toLowerCase());
        cfg.put("defaultRuntimeHandler", config.defaultRuntimeHandler());
        Map<String, Object> handlers = new LinkedHashMap<>();
        config.runtimeHandlers()
                .forEach((name, h) -> handlers.put(
                        name,
                        Map.of(
                                "path",
                                h.path(),
                                "root",
                                h.root().map(Path::toString).orElse(""))));
        cfg.put("runtimeHandlers", handlers);
        cfg.put("criuPath", config.criuPath());
        cfg.put("cniConfDir", config.cniConfDir().toString());
        cfg.put("cniBinDirs", config.cniBinDirs().stream().map(Path::toString).toList());
        try {
            return Map.of(
                    "config", JSON.writeValueAsString(cfg),
                    "version",
                            JSON.writeValueAsString(Map.of(
                                    "stevedore",
                                    BuildInfo.version(),
                                    "java",
                                    Runtime.version().toString())));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}

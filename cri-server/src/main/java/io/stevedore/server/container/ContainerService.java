package io.stevedore.server.container;

import com.google.protobuf.InvalidProtocolBufferException;
import io.stevedore.cri.v1.ContainerConfig;
import io.stevedore.cri.v1.ContainerFilter;
import io.stevedore.cri.v1.ContainerState;
import io.stevedore.cri.v1.ContainerStatus;
import io.stevedore.cri.v1.LinuxContainerResources;
import io.stevedore.cri.v1.PodSandboxMetadata;
import io.stevedore.oci.linux.Syscalls;
import io.stevedore.oci.runtime.OciRuntime;
import io.stevedore.oci.runtime.OciRuntimeException;
import io.stevedore.oci.spec.Spec;
import io.stevedore.oci.spec.SpecJson;
import io.stevedore.server.container.spec.ContainerSpecGenerator;
import io.stevedore.server.error.CriException;
import io.stevedore.server.host.Procs;
import io.stevedore.server.host.Runtimes;
import io.stevedore.server.host.Signals;
import io.stevedore.server.image.ImageService;
import io.stevedore.server.image.snapshot.SnapshotStore;
import io.stevedore.server.image.store.ImageRecord;
import io.stevedore.server.state.Dirs;
import io.stevedore.server.state.NameIndex;
import io.stevedore.server.state.RecordStore;
import io.stevedore.server.state.Trash;
import io.stevedore.shim.ExitFile;
import io.stevedore.shim.ExitStatus;
import io.stevedore.shim.ShimControl;
import io.stevedore.shim.ShimException;
import io.stevedore.shim.ShimLauncher;
import io.stevedore.shim.ShimSpec;
import io.stevedore.shim.ShimStarted;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Container lifecycle: create (rootfs + bundle), start (a shim per container, which runs the OCI
 * runtime), stop, remove, status, exec, log reopening and resource updates, and recovery after a
 * daemon restart.
 *
 * <p>Each container has a lock; a lifecycle call holds it for its whole duration, so calls on one
 * container are serialized while calls on different containers run in parallel. Readers (status,
 * list) use the last stored record without the lock.
 *
 * <p>Exits are noticed three ways, all idempotent: the exit directory is watched (inotify), every
 * read of a running container checks its exit file, and a sweep every second checks the shims.
 */
public final class ContainerService implements ContainersInSandbox, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ContainerService.class);
    /** The longest stop grace period honoured: a hundred years. */
    static final long MAX_STOP_TIMEOUT_S = 100L * 365 * 24 * 3600;

    private final Path stateDir; // <root>/containers: writable layers
    private final Path runDir; // <runRoot>/containers: bundles
    private final Path exitDir;
    private final ExecOutput execOutput;
    private final RecordStore<ContainerRecord> store;
    private final Trash stateTrash;
    private final Trash runTrash;
    private final NameIndex names = new NameIndex();
    private final Map<String, Container> containers = new ConcurrentHashMap<>();
    /** Parsed specs for exec, by container id; dropped on remove. */
    private final Map<String, Spec> execSpecs = new ConcurrentHashMap<>();

    private final Pods pods;
    private final ImageService images;
    private final SnapshotStore snapshots;
    private final Runtimes runtimes;
    private final ShimLauncher launcher;
    private final ContainerSpecGenerator specs;
    private final RootfsMounts rootfs;
    private final Syscalls sys;
    private final Object exitSignal = new Object();
    private final WatchService watcher;
    private final Thread watchThread;
    private final Thread sweepThread;
    private volatile boolean closed;

    /** One container: its last stored record and the lock lifecycle calls hold. */
    private static final class Container {
        final ReentrantLock lock = new ReentrantLock();
        volatile ContainerRecord record;
        /**
         * Set once its exit is recorded: the release of what the run held (runtime state, rootfs
         * mount, shim sockets), which finishes in the background so that StopContainer returns as
         * soon as the exit is stored. RemoveContainer waits for it.
         */
        volatile CompletableFuture<Boolean> released;

        Container(ContainerRecord record) {
            this.record = record;
        }
    }

    public ContainerService(
            Path stateDir,
            Path runDir,
            Path exitDir,
            Pods pods,
            ImageService images,
            SnapshotStore snapshots,
            Runtimes runtimes,
            ShimLauncher launcher,
            ContainerSpecGenerator specs,
            ExecOutput execOutput,
            Syscalls sys)
            throws IOException {
        this.stateDir = Files.createDirectories(stateDir);
        this.runDir = Files.createDirectories(runDir);
        this.exitDir = Files.createDirectories(exitDir);
        this.store = new RecordStore<>(stateDir.resolveSibling("containers.meta"), ContainerRecord.class);
        this.stateTrash = new Trash(stateDir.resolveSibling("containers.trash"));
        this.runTrash = new Trash(runDir.resolveSibling("containers.trash"));
        this.pods = pods;
        this.images = images;
        this.snapshots = snapshots;
        this.runtimes = runtimes;
        this.launcher = launcher;
        this.specs = specs;
        this.execOutput = execOutput;
        this.rootfs = new RootfsMounts(sys);
        this.sys = sys;
        this.watcher = FileSystems.getDefault().newWatchService();
        exitDir.register(watcher, StandardWatchEventKinds.ENTRY_CREATE);
        this.watchThread = Thread.ofPlatform().daemon().name("exit-watcher").unstarted(this::watchExits);
        this.sweepThread = Thread.ofPlatform().daemon().name("shim-sweeper").unstarted(this::sweep);
    }

    // ---------------------------------------------------------------- recovery

    /**
     * Loads every stored container and reconciles it with the machine: exits recorded while the
     * daemon was down are applied, containers whose shim vanished are reported exited, and stray
     * bundles, mounts and exit files that belong to no container are removed. Then starts watching.
     */
    public void recover() throws IOException {
        for (ContainerRecord r : store.loadAll((p, e) ->
                log.atWarn().addKeyValue("file", p).setCause(e).log("skipping unreadable container record"))) {
            containers.put(r.id(), new Container(r));
            names.reserve(r.name(), r.id());
        }
        var mounted = new java.util.HashSet<>(Dirs.mountPoints());
        for (Container c : containers.values()) {
            c.lock.lock();
            try {
                ContainerState before = c.record.status().state();
                reconcile(c);
                ContainerRecord r = c.record;
                // An exit stored just before the daemon died may not have been released (the rootfs is
                // unmounted last); one recorded by reconcile above is being released already.
                if (before == ContainerState.CONTAINER_EXITED
                        && r.status().shimPid() > 0
                        && mounted.contains(
                                runDir.resolve(r.id()).resolve("rootfs").toString())) {
                    releaseInBackground(c, r);
                }
            } catch (RuntimeException e) {
                log.atWarn().addKeyValue("id", c.record.id()).setCause(e).log("recovering container failed");
            } finally {
                c.lock.unlock();
            }
        }
        try (Stream<Path> s = Files.list(runDir)) {
            for (Path p : s.toList()) {
                if (!containers.containsKey(p.getFileName().toString())) {
                    log.atInfo().addKeyValue("bundle", p).log("removing a bundle no container owns");
                    rootfs.unmount(p.resolve("rootfs"));
                    Dirs.deleteTree(p);
                }
            }
        }
        try (Stream<Path> s = Files.list(stateDir)) {
            for (Path p : s.toList()) {
                if (!containers.containsKey(p.getFileName().toString())) {
                    Dirs.deleteTree(p);
                }
            }
        }
        try (Stream<Path> s = Files.list(exitDir)) {
            for (Path p : s.toList()) {
                // <id>, <id>.oom, and their .tmp while a shim writes them
                String id = p.getFileName().toString().replaceFirst("(\\.oom)?(\\.tmp)?$", "");
                if (!containers.containsKey(id)) {
                    Files.deleteIfExists(p); // left by a crash between an exit and its container's removal
                }
            }
        }
        watchThread.start();
        sweepThread.start();
    }

    // ---------------------------------------------------------------- create

    /** CreateContainer: reserves the name, prepares the rootfs and bundle, stores the container. */
    public String create(String sandboxId, ContainerConfig cfg) {
        checkLogPath(cfg.getLogPath());
        boolean sharedPid =
                cfg.getLinux().getSecurityContext().getNamespaceOptions().getPid()
                        == io.stevedore.cri.v1.NamespaceMode.POD;
        Pods.Pod pod = pods.ready(sandboxId, sharedPid);
        PodSandboxMetadata pm = pod.context().config().getMetadata();
        var md = cfg.getMetadata();
        String name = String.join(
                "_", md.getName(), pm.getName(), pm.getNamespace(), pm.getUid(), Integer.toString(md.getAttempt()));
        String id = Dirs.newId();
        Optional<String> holder = names.reserve(name, id);
        if (holder.isPresent()) {
            Container existing = containers.get(holder.get());
            if (existing != null
                    && existing.record.sandboxId().equals(sandboxId)
                    && Arrays.equals(existing.record.config(), cfg.toByteArray())) {
                // A retry of a create whose answer the client never got (kubelet's timeout): same answer.
                return existing.record.id();
            }
            throw new CriException.FailedPrecondition("create container \"" + md.getName() + "\": name \"" + name
                    + "\" is reserved for \"" + holder.get() + "\"");
        }
        String imageName = cfg.getImage().getImage();
        Path bundle = runDir.resolve(id);
        Path state = stateDir.resolve(id);
        boolean mounted = false;
        try {
            ImageRecord image = images.find(imageName)
                    .orElseThrow(() -> new CriException.NotFound(
                            "create container \"" + md.getName() + "\": image \"" + imageName + "\" not found"));
            List<Path> lowers = image.chainIds().stream().map(snapshots::fsPath).toList();
            Files.createDirectories(bundle);
            Path rootPath = bundle.resolve("rootfs");
            rootfs.mount(lowers, state.resolve("upper"), state.resolve("work"), rootPath);
            mounted = true;
            Spec spec = specs.generate(id, cfg, pod.context(), images.config(image), rootPath);
            SpecJson.write(spec, bundle.resolve("config.json"));
            String logPath = "";
            String logDir = pod.context().config().getLogDirectory();
            if (!logDir.isEmpty() && !cfg.getLogPath().isEmpty()) {
                logPath = logPathBeneath(Path.of(logDir), cfg.getLogPath()).toString();
            }
            String imageRef = image.repoDigests().isEmpty()
                    ? image.id()
                    : image.repoDigests().getFirst();
            String cgroupsPath = spec.linux() == null || spec.linux().cgroupsPath() == null
                    ? ""
                    : spec.linux().cgroupsPath();
            var record = new ContainerRecord(
                    id,
                    sandboxId,
                    name,
                    cfg.toByteArray(),
                    image.id(),
                    imageRef,
                    imageName,
                    image.chainIds(),
                    logPath,
                    cgroupsPath,
                    Dirs.nowNanos(),
                    ContainerRecord.Status.created());
            store.put(id, record);
            containers.put(id, new Container(record));
            return id;
        } catch (IOException | RuntimeException | StackOverflowError | OutOfMemoryError e) {
            // Errors too (issue 11): a request that blew the stack or the heap half-way must not leave
            // a mounted overlay and a bundle that no RPC can see or remove.
            names.release(name, id);
            try {
                if (mounted) rootfs.unmount(bundle.resolve("rootfs"));
                Dirs.deleteTree(bundle);
                Dirs.deleteTree(state);
            } catch (IOException undo) {
                e.addSuppressed(undo);
            }
            if (e instanceof Error err) throw err;
            if (e instanceof CriException ce) throw ce;
            throw new IllegalStateException("create container \"" + md.getName() + "\": " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- start

    /** StartContainer: runs the shim (which runs {@code <runtime> create}), then {@code <runtime> start}. */
    public void start(String id) {
        Container c = get(id);
        c.lock.lock();
        try {
            ContainerRecord r = c.record;
            if (r.status().state() != ContainerState.CONTAINER_CREATED) {
                throw new CriException.FailedPrecondition("start container \"" + id + "\": container is "
                        + stateName(r.status().state()) + ", not created");
            }
            Pods.Pod pod = pods.ready(r.sandboxId(), false);
            OciRuntime rt = runtimes.get(pod.runtimeHandler());
            ContainerConfig cfg = config(r);
            Path bundle = runDir.resolve(id);
            Path shimDir = Files.createDirectories(shimDir(id));
            Path logPath = r.logPath().isEmpty() ? bundle.resolve("container.log") : Path.of(r.logPath());
            var spec = new ShimSpec(
                    id,
                    bundle,
                    rt.binary(),
                    rt.root(),
                    logPath,
                    exitDir,
                    shimDir,
                    bundle.resolve("init.pid"),
                    cfg.getTty(),
                    cfg.getStdin());
            ShimStarted started;
            try {
                started = launcher.start(spec);
            } catch (ShimException e) {
                deleteQuietly(rt, id);
                String msg = e.runtimeMessage().orElse(e.getMessage());
                failStart(c, msg);
                throw new IllegalStateException("start container \"" + id + "\": " + msg, e);
            }
            int shimPid = readPid(spec.shimPidFile());
            long shimStart = Procs.startTime(shimPid);
            // The shim holds the created init as its child, unreaped: this is its start time.
            long pidStart = Procs.startTime(started.pid());
            // Taken before the process can run, so a quick exit never finishes before it started.
            long startedAt = Dirs.nowNanos();
            try {
                rt.start(id);
            } catch (OciRuntimeException e) {
                killQuietly(rt, id, Signals.SIGKILL, true);
                awaitExitFile(id, Duration.ofSeconds(5));
                ExitFile.remove(exitDir, id);
                deleteQuietly(rt, id);
                sys.reap(shimPid);
                failStart(c, e.runtimeMessage());
                throw new IllegalStateException("start container \"" + id + "\": " + e.getMessage(), e);
            }
            update(c, r.status().running(started.pid(), pidStart, shimPid, shimStart, startedAt));
            // It may have exited already (a short-lived command): the watcher will see the file too.
            reconcile(c);
        } catch (IOException e) {
            throw new UncheckedIOException("start container \"" + id + "\": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CriException.Unavailable("start container \"" + id + "\": interrupted", e);
        } finally {
            c.lock.unlock();
        }
    }

    private void failStart(Container c, String message) {
        long t = Dirs.nowNanos();
        var s = c.record.status();
        update(
                c,
                new ContainerRecord.Status(
                        ContainerState.CONTAINER_EXITED,
                        0,
                        0,
                        0,
                        0,
                        t,
                        t,
                        128,
                        "StartError",
                        message == null ? "" : message.strip()));
        try {
            rootfs.unmount(runDir.resolve(c.record.id()).resolve("rootfs"));
        } catch (IOException e) {
            log.atWarn().addKeyValue("id", c.record.id()).setCause(e).log("unmounting rootfs failed");
        }
        c.released = CompletableFuture.completedFuture(true); // the runtime state was deleted by the caller
    }

    // ---------------------------------------------------------------- stop

    /**
     * StopContainer: the stop signal, {@code timeoutSeconds} of grace, then SIGKILL. Stopping a
     * container that is not running succeeds.
     */
    public void stop(String id, long timeoutSeconds) {
        stop(id, timeoutSeconds, () -> false);
    }

    /**
     * StopContainer: the stop signal, up to {@code timeoutSeconds} for the container to exit, then
     * SIGKILL. {@code callerGone} is polled during the grace period: when the caller has gone
     * (cancelled, or past its deadline), the wait ends there, so that the next StopContainer (the
     * kubelet retries with a shorter grace period) is not queued behind a grace period of years.
     */
    public void stop(String id, long timeoutSeconds, java.util.function.BooleanSupplier callerGone) {
        Container c = get(id);
        c.lock.lock();
        try {
            stopLocked(c, timeoutSeconds, callerGone);
        } finally {
            c.lock.unlock();
        }
    }

    private void stopLocked(Container c, long timeoutSeconds, java.util.function.BooleanSupplier callerGone) {
        reconcile(c);
        ContainerRecord r = c.record;
        if (r.status().state() != ContainerState.CONTAINER_RUNNING) {
            return;
        }
        String id = r.id();
        OciRuntime rt = runtimes.get(pods.runtimeHandler(r.sandboxId()));
        boolean sharedPid = !ownsPidNamespace(id);
        try {
            if (timeoutSeconds > 0) {
                int sig = Signals.stopSignal(config(r).getStopSignal(), imageStopSignal(r));
                signalInit(rt, r, sig);
                // A grace period is an int64 of seconds from the pod author; in nanoseconds it overflows
                // past 292 years (and used to fail the stop with UNKNOWN after SIGTERM).
                if (awaitExitFile(id, Duration.ofSeconds(Math.min(timeoutSeconds, MAX_STOP_TIMEOUT_S)), callerGone)) {
                    reconcile(c);
                    return;
                }
                if (callerGone.getAsBoolean()) {
                    throw new java.util.concurrent.CancellationException("stop container \"" + id
                            + "\": the caller went away during the grace period; the container has its stop signal");
                }
            }
            if (sharedPid) {
                killQuietly(rt, id, Signals.SIGKILL, true); // every process of its cgroup, not just init
            } else {
                signalInit(rt, r, Signals.SIGKILL); // init of its own PID namespace: the kernel kills the rest
            }
            if (!awaitExitFile(id, Duration.ofSeconds(30))) {
                if (!Procs.alive(r.status().shimPid(), r.status().shimStartTime())) {
                    reconcile(c);
                    return;
                }
                throw new IllegalStateException("stop container \"" + id + "\": still running 30s after SIGKILL");
            }
            reconcile(c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CriException.Unavailable("stop container \"" + id + "\": interrupted", e);
        }
    }

    /**
     * Signals the container's init directly (a pidfd, checked against its recorded start time)
     * rather than through {@code runc kill}, a process spawn of ~10 ms; falls back to the runtime
     * when the start time is unknown (a record from before it was kept).
     */
    private void signalInit(OciRuntime rt, ContainerRecord r, int signal) {
        var s = r.status();
        if (s.pid() > 0 && s.pidStartTime() > 0) {
            try {
                Procs.signal(sys, s.pid(), s.pidStartTime(), signal);
                return; // or it is gone already: its exit file is on the way
            } catch (IOException e) {
                log.atDebug()
                        .addKeyValue("id", r.id())
                        .log("pidfd signal failed, asking the runtime: {}", e.toString());
            }
        }
        killQuietly(rt, r.id(), signal, false);
    }

    private boolean ownsPidNamespace(String id) {
        try {
            Spec spec = SpecJson.read(runDir.resolve(id).resolve("config.json"));
            if (spec.linux() == null || spec.linux().namespaces() == null) return false;
            return spec.linux().namespaces().stream()
                    .anyMatch(n -> n.type() == io.stevedore.oci.spec.Linux.NamespaceType.PID
                            && (n.path() == null || n.path().isEmpty()));
        } catch (IOException e) {
            return false;
        }
    }

    private String imageStopSignal(ContainerRecord r) {
        try {
            return images.find(r.imageId())
                    .map(i -> images.config(i).stopSignal())
                    .orElse("");
        } catch (RuntimeException e) {
            return "";
        }
    }

    // ---------------------------------------------------------------- remove

    /** RemoveContainer: force-stops, deletes the runtime state, unmounts, forgets. Idempotent. */
    public void remove(String id) {
        Container c = containers.get(id);
        if (c == null) {
            c = find(id).orElse(null);
            if (c == null) return; // already gone: kubelet retries removals
        }
        c.lock.lock();
        try {
            if (!containers.containsKey(c.record.id())) return;
            removeLocked(c);
        } finally {
            c.lock.unlock();
        }
    }

    private void removeLocked(Container c) {
        String id = c.record.id();
        stopLocked(c, 0, () -> false);
        ContainerRecord r = c.record;
        // A container that never ran has no runtime state; one whose exit was released has none left.
        boolean ran = r.status().shimPid() > 0;
        CompletableFuture<Boolean> released = c.released;
        if (ran && (released == null || !released.join())) {
            deleteRuntimeState(r);
            if (Thread.currentThread().isInterrupted()) {
                throw new CriException.Unavailable("remove container \"" + id + "\": interrupted", null);
            }
        }
        try {
            Path bundle = runDir.resolve(id);
            rootfs.unmount(bundle.resolve("rootfs"));
            runTrash.discard(bundle);
            runTrash.discard(shimDir(id));
            stateTrash.discard(stateDir.resolve(id));
            ExitFile.remove(exitDir, id);
        } catch (IOException e) {
            throw new UncheckedIOException("remove container \"" + id + "\": " + e.getMessage(), e);
        }
        store.remove(id);
        containers.remove(id);
        execSpecs.remove(id);
        names.release(r.name(), id);
    }

    // ---------------------------------------------------------------- status and list

    public ContainerStatus status(String id) {
        return ContainerProtos.status(current(get(id)), readSpec(id));
    }

    /** A verbose status: the spec, pid and runtime details as containerd shows them. */
    public Map<String, String> verboseInfo(String id) {
        ContainerRecord r = current(get(id));
        return ContainerProtos.verboseInfo(r, runDir.resolve(id).resolve("config.json"));
    }

    public List<io.stevedore.cri.v1.Container> list(ContainerFilter f) {
        return containers.values().stream()
                .map(this::current)
                .filter(r -> f.getId().isEmpty() || r.id().startsWith(f.getId()))
                .filter(r -> f.getPodSandboxId().isEmpty() || r.sandboxId().startsWith(f.getPodSandboxId()))
                .filter(r -> !f.hasState() || r.status().state() == f.getState().getState())
                .map(ContainerProtos::container)
                .filter(ctr -> ctr.getLabelsMap()
                        .entrySet()
                        .containsAll(f.getLabelSelectorMap().entrySet()))
                .sorted(Comparator.comparingLong(io.stevedore.cri.v1.Container::getCreatedAt))
                .toList();
    }

    /** Records of every container (for stats). */
    public List<ContainerRecord> records() {
        return containers.values().stream().map(this::current).toList();
    }

    public ContainerRecord record(String id) {
        return current(get(id));
    }

    /** The writable layer of a container. */
    public Path upperDir(String id) {
        return stateDir.resolve(id).resolve("upper");
    }

    @Override
    public List<ContainerStatus> statuses(String sandboxId) {
        return containers.values().stream()
                .map(this::current)
                .filter(r -> r.sandboxId().equals(sandboxId))
                .map(r -> ContainerProtos.status(r, readSpec(r.id())))
                .toList();
    }

    @Override
    public void stopAll(String sandboxId, long timeoutSeconds) {
        for (Container c : inSandbox(sandboxId)) {
            stop(c.record.id(), timeoutSeconds);
        }
    }

    @Override
    public void removeAll(String sandboxId) {
        for (Container c : inSandbox(sandboxId)) {
            remove(c.record.id());
        }
    }

    private List<Container> inSandbox(String sandboxId) {
        return containers.values().stream()
                .filter(c -> c.record.sandboxId().equals(sandboxId))
                .toList();
    }

    // ---------------------------------------------------------------- exec, logs, resources

    /** ExecSync: runs {@code cmd} in the container and returns its output and exit code. */
    public ExecResult execSync(String id, List<String> cmd, long timeoutSeconds) {
        ContainerRecord r = current(get(id));
        if (r.status().state() != ContainerState.CONTAINER_RUNNING) {
            throw new CriException.FailedPrecondition("exec in container \"" + id + "\": container is not running");
        }
        OciRuntime rt = runtimes.get(pods.runtimeHandler(r.sandboxId()));
        return ExecSync.run(
                rt, r.id(), runDir.resolve(r.id()), execProcess(r.id(), cmd, false), timeoutSeconds, execOutput, sys);
    }

    /**
     * The container's log file, {@code logPath} beneath the pod's log directory, its directories
     * made: no component below {@code logDir} may be a symbolic link (issue 11: a link planted
     * there made the shim write wherever it pointed). Directories are made one at a time, so none
     * is made through a link; the shim opens the file itself with {@code O_NOFOLLOW}.
     */
    static Path logPathBeneath(Path logDir, String logPath) throws IOException {
        Path p = logDir;
        Files.createDirectories(logDir); // the kubelet's own directory: it made it
        Path rel = Path.of(logPath);
        for (int i = 0; i < rel.getNameCount(); i++) {
            p = p.resolve(rel.getName(i));
            if (Files.isSymbolicLink(p)) {
                throw new CriException.FailedPrecondition("create container: log_path \"" + CriException.shown(logPath)
                        + "\": " + CriException.shown(rel.subpath(0, i + 1).toString()) + " is a symbolic link");
            }
            if (i < rel.getNameCount() - 1 && !Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                try {
                    Files.createDirectory(p);
                } catch (java.nio.file.FileAlreadyExistsException e) {
                    // made meanwhile (a directory: fine; anything else fails the next step or the shim's open)
                }
            }
        }
        return p;
    }

    /**
     * {@code log_path} is relative to the pod's log directory (the kubelet sends {@code
     * <container>/<restart>.log}); it must stay beneath it: no absolute path, no {@code ..}, no
     * empty or {@code .} component, no control characters (issue 11: it let a pod author make the
     * shim write anywhere).
     */
    static void checkLogPath(String logPath) {
        if (logPath.isEmpty()) {
            return;
        }
        boolean ok = logPath.length() <= 4096
                && !logPath.startsWith("/")
                && logPath.chars().noneMatch(c -> c < 0x20 || c == 0x7f);
        if (ok) {
            for (String part : logPath.split("/", -1)) {
                if (part.isEmpty() || part.equals(".") || part.equals("..")) {
                    ok = false;
                    break;
                }
            }
        }
        if (!ok) {
            throw new CriException.InvalidArgument("log_path \"" + CriException.shown(logPath)
                    + "\" must be a relative path beneath the pod's log directory");
        }
    }

    /** The result of ExecSync. */
    public record ExecResult(
            com.google.protobuf.ByteString stdout, com.google.protobuf.ByteString stderr, int exitCode) {}

    /**
     * What an exec or attach session needs of a running container.
     *
     * @throws CriException.NotFound for an unknown container
     * @throws CriException.FailedPrecondition when it is not running
     */
    StreamTarget streamTarget(String id, String action) {
        ContainerRecord r = current(get(id));
        if (r.status().state() != ContainerState.CONTAINER_RUNNING) {
            throw new CriException.FailedPrecondition(
                    action + " container \"" + r.id() + "\": container is not running");
        }
        return new StreamTarget(
                r.id(),
                r.sandboxId(),
                config(r),
                runtimes.get(pods.runtimeHandler(r.sandboxId())),
                runDir.resolve(r.id()),
                shimDir(r.id()),
                sys);
    }

    /** The OCI process to exec in a running container. */
    io.stevedore.oci.spec.Process execProcess(String id, List<String> cmd, boolean tty) {
        return specs.execProcess(execSpec(id), cmd, tty);
    }

    /**
     * The container's spec as exec needs it, parsed once per container: its process part never
     * changes after create (UpdateContainerResources rewrites only resources), and parsing the whole
     * config.json took a few milliseconds of every streaming exec.
     */
    private Spec execSpec(String id) {
        Spec cached = execSpecs.get(id);
        if (cached != null) {
            return cached;
        }
        Spec spec = readSpec(id)
                .orElseThrow(() ->
                        new CriException.FailedPrecondition("exec in container \"" + id + "\": its bundle is gone"));
        execSpecs.put(id, spec);
        if (!containers.containsKey(id)) {
            execSpecs.remove(id); // removed meanwhile
        }
        return spec;
    }

    /**
     * A running container as a streaming session sees it.
     *
     * @param bundle its bundle directory (exec process files go there)
     * @param shimDir the shim's socket directory ({@code attach.sock}, {@code ctl.sock})
     */
    record StreamTarget(
            String id,
            String sandboxId,
            ContainerConfig config,
            OciRuntime runtime,
            Path bundle,
            Path shimDir,
            Syscalls sys) {}

    /**
     * ReopenContainerLog: the shim reopens the log file (after kubelet renamed it). Only a running
     * container has a writer to reopen: otherwise FAILED_PRECONDITION, as containerd answers.
     */
    public void reopenLog(String id) {
        Container c = get(id);
        ContainerRecord r = current(c);
        if (r.status().state() != ContainerState.CONTAINER_RUNNING) {
            throw new CriException.FailedPrecondition(
                    "reopen log of container \"" + r.id() + "\": container is not running");
        }
        try (ShimControl ctl = ShimControl.connect(shimDir(r.id()).resolve("ctl.sock"))) {
            ctl.reopenLog();
        } catch (IOException | ShimException e) {
            throw new IllegalStateException("reopen log of container \"" + id + "\": " + e.getMessage(), e);
        }
    }

    /** UpdateContainerResources: new cgroup limits for a running container, remembered in its config. */
    public void updateResources(String id, LinuxContainerResources res) {
        Container c = get(id);
        c.lock.lock();
        try {
            ContainerRecord r = c.record;
            if (r.status().state() == ContainerState.CONTAINER_RUNNING) {
                OciRuntime rt = runtimes.get(pods.runtimeHandler(r.sandboxId()));
                try {
                    var current = readSpec(id)
                            .map(sp -> sp.linux() == null ? null : sp.linux().resources())
                            .orElse(null);
                    rt.update(id, specs.updatedResources(current, res));
                } catch (OciRuntimeException e) {
                    throw new IllegalStateException("update container \"" + id + "\": " + e.runtimeMessage(), e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CriException.Unavailable("update container \"" + id + "\": interrupted", e);
                }
            } else if (r.status().state() != ContainerState.CONTAINER_CREATED) {
                throw new CriException.FailedPrecondition("update container \"" + id + "\": container is not running");
            }
            ContainerConfig cfg = config(r);
            var updated = cfg.toBuilder();
            updated.getLinuxBuilder().setResources(res);
            var nr = new ContainerRecord(
                    r.id(),
                    r.sandboxId(),
                    r.name(),
                    updated.build().toByteArray(),
                    r.imageId(),
                    r.imageRef(),
                    r.imageName(),
                    r.layers(),
                    r.logPath(),
                    r.cgroupsPath(),
                    r.createdAt(),
                    r.status());
            store.put(id, nr);
            c.record = nr;
        } finally {
            c.lock.unlock();
        }
    }

    // ---------------------------------------------------------------- exits

    /** The record, after applying an exit that happened since it was stored. */
    private ContainerRecord current(Container c) {
        ContainerRecord r = c.record;
        if (r.status().state() == ContainerState.CONTAINER_RUNNING
                && (Files.exists(ExitFile.path(exitDir, r.id()))
                        || !Procs.alive(r.status().shimPid(), r.status().shimStartTime()))) {
            if (c.lock.tryLock()) {
                try {
                    reconcile(c);
                } finally {
                    c.lock.unlock();
                }
            }
        }
        return c.record;
    }

    /**
     * Applies an exit, under the container's lock: the exit file (the shim's record), else a dead
     * shim without one. Idempotent.
     */
    private void reconcile(Container c) {
        ContainerRecord r = c.record;
        String id = r.id();
        if (r.status().state() != ContainerState.CONTAINER_RUNNING) {
            if (r.status().state() == ContainerState.CONTAINER_EXITED) {
                try {
                    ExitFile.remove(exitDir, id);
                } catch (IOException ignored) {
                    // best effort: a stale exit file is harmless for an exited container
                }
            }
            return;
        }
        try {
            Optional<ExitStatus> exit = ExitFile.read(exitDir, id);
            ContainerRecord.Status s;
            if (exit.isPresent()) {
                long finished =
                        Files.getLastModifiedTime(ExitFile.path(exitDir, id)).to(TimeUnit.NANOSECONDS);
                ExitStatus es = exit.get();
                String reason = es.oomKilled() ? "OOMKilled" : es.code() == 0 ? "Completed" : "Error";
                s = r.status().exited(finished, es.code(), reason, "");
            } else if (!Procs.alive(r.status().shimPid(), r.status().shimStartTime())) {
                // The shim died without recording an exit (killed): the container has no monitor and no log.
                OciRuntime rt = runtimes.get(pods.runtimeHandler(r.sandboxId()));
                killQuietly(rt, id, Signals.SIGKILL, true);
                if (ExitFile.read(exitDir, id).isPresent()) {
                    reconcile(c);
                    return;
                }
                s = r.status()
                        .exited(
                                Dirs.nowNanos(),
                                255,
                                "Error",
                                "the container's monitor (stevedore-shim) died; exit status lost");
            } else {
                return;
            }
            update(c, s);
            ExitFile.remove(exitDir, id);
            releaseInBackground(c, r);
            synchronized (exitSignal) {
                exitSignal.notifyAll();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("container \"" + id + "\": applying its exit: " + e.getMessage(), e);
        }
    }

    private void releaseInBackground(Container c, ContainerRecord r) {
        c.released = CompletableFuture.supplyAsync(() -> release(r), Thread::startVirtualThread);
    }

    /**
     * Releases what a run held once its exit is stored: the runtime's state and cgroup
     * ({@code runc delete}), the rootfs mount, the shim's sockets. In that order, so a rootfs still
     * mounted at recovery means the release may not have finished ({@link #recover}). Returns
     * whether the runtime state is gone.
     */
    private boolean release(ContainerRecord r) {
        String id = r.id();
        boolean deleted = deleteRuntimeState(r);
        if (Thread.currentThread().isInterrupted()) return false;
        try {
            rootfs.unmount(runDir.resolve(id).resolve("rootfs"));
            Dirs.deleteTree(shimDir(id));
        } catch (IOException | RuntimeException e) {
            log.atWarn().addKeyValue("id", id).setCause(e).log("releasing an exited container failed");
        }
        if (r.status().shimPid() > 0) sys.reap(r.status().shimPid());
        return deleted;
    }

    /** Waits until the shim has written the exit file of {@code id}. */
    private boolean awaitExitFile(String id, Duration timeout) throws InterruptedException {
        return awaitExitFile(id, timeout, () -> false);
    }

    /** Whether the exit file appeared within {@code timeout}; false as soon as {@code stopWaiting}. */
    private boolean awaitExitFile(String id, Duration timeout, java.util.function.BooleanSupplier stopWaiting)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Path f = ExitFile.path(exitDir, id);
        while (!Files.exists(f)) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || stopWaiting.getAsBoolean()) return false;
            synchronized (exitSignal) {
                if (Files.exists(f)) break;
                exitSignal.wait(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(left), 50)));
            }
        }
        return true;
    }

    private void watchExits() {
        while (!closed) {
            WatchKey key;
            try {
                key = watcher.take();
            } catch (InterruptedException | java.nio.file.ClosedWatchServiceException e) {
                return;
            }
            for (var ev : key.pollEvents()) {
                synchronized (exitSignal) {
                    exitSignal.notifyAll();
                }
                if (ev.context() instanceof Path p) {
                    String name = p.getFileName().toString();
                    Container c = containers.get(name);
                    if (c != null) {
                        Thread.ofVirtual().start(() -> applyExit(c));
                    }
                }
            }
            key.reset();
        }
    }

    private void applyExit(Container c) {
        c.lock.lock();
        try {
            reconcile(c);
        } catch (RuntimeException e) {
            log.atWarn().addKeyValue("id", c.record.id()).setCause(e).log("applying an exit failed");
        } finally {
            c.lock.unlock();
        }
    }

    /**
     * Every second: reap exited shims, notice shims that died, and reap any other adopted orphan
     * (the daemon is a child subreaper). A zombie child seen on two sweeps in a row is not one the
     * JDK started: the JDK reaps its own children at once.
     */
    private void sweep() {
        var zombies = new java.util.HashSet<Integer>();
        while (!closed) {
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                return;
            }
            var now = Procs.zombieChildren(ProcessHandle.current().pid());
            for (int z : now) {
                if (zombies.contains(z)) sys.reap(z);
            }
            zombies.clear();
            zombies.addAll(now);
            for (Container c : containers.values()) {
                var s = c.record.status();
                if (s.shimPid() > 0
                        && s.state() == ContainerState.CONTAINER_RUNNING
                        && !Procs.alive(s.shimPid(), s.shimStartTime())) {
                    sys.reap(s.shimPid());
                    applyExit(c);
                } else if (s.shimPid() > 0 && s.state() == ContainerState.CONTAINER_EXITED) {
                    sys.reap(s.shimPid());
                }
            }
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        watcher.close();
        sweepThread.interrupt();
    }

    // ---------------------------------------------------------------- helpers

    /**
     * The shim's socket directory: short, because a socket path must fit in 108 bytes and the
     * bundle path with a 64-digit id does not leave room for {@code console.sock}.
     */
    private Path shimDir(String id) {
        return shimSocketDir(runDir.resolveSibling("s"), id);
    }

    /** {@code <base>/<first 20 hex digits of the id>}. */
    public static Path shimSocketDir(Path base, String id) {
        return base.resolve(id.length() > 20 ? id.substring(0, 20) : id);
    }

    private Container get(String id) {
        if (id == null || id.isEmpty()) throw new CriException.InvalidArgument("container id is empty");
        Container c = containers.get(id);
        if (c != null) return c;
        return find(id).orElseThrow(() -> new CriException.NotFound("container \"" + id + "\" not found"));
    }

    /** By unique id prefix, as crictl users type them. */
    private Optional<Container> find(String prefix) {
        var matches = containers.values().stream()
                .filter(c -> c.record.id().startsWith(prefix))
                .toList();
        if (matches.size() > 1) {
            throw new CriException.InvalidArgument("container id prefix \"" + prefix + "\" is ambiguous");
        }
        return matches.stream().findFirst();
    }

    private void update(Container c, ContainerRecord.Status s) {
        ContainerRecord nr = c.record.withStatus(s);
        store.put(nr.id(), nr);
        c.record = nr;
    }

    private Optional<Spec> readSpec(String id) {
        try {
            return Optional.of(SpecJson.read(runDir.resolve(id).resolve("config.json")));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    static ContainerConfig config(ContainerRecord r) {
        try {
            return ContainerConfig.parseFrom(r.config());
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("container \"" + r.id() + "\": stored config unreadable", e);
        }
    }

    private static void killQuietly(OciRuntime rt, String id, int signal, boolean all) {
        try {
            rt.kill(id, signal, all);
        } catch (OciRuntimeException e) {
            log.atDebug().addKeyValue("id", id).log("kill {}: {}", signal, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@link #deleteQuietly} through the runtime of the container's pod. */
    private boolean deleteRuntimeState(ContainerRecord r) {
        try {
            return deleteQuietly(runtimes.get(pods.runtimeHandler(r.sandboxId())), r.id());
        } catch (RuntimeException e) {
            log.atWarn().addKeyValue("id", r.id()).setCause(e).log("runtime delete failed");
            return false;
        }
    }

    /**
     * {@code <runtime> delete --force}; a failure is logged. Returns whether it succeeded: false
     * also when interrupted, with the thread's interrupt flag set again.
     */
    private static boolean deleteQuietly(OciRuntime rt, String id) {
        try {
            rt.delete(id, true);
            return true;
        } catch (OciRuntimeException e) {
            log.atWarn().addKeyValue("id", id).log("runtime delete failed: {}", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }

    private static int readPid(Path f) {
        try {
            return Integer.parseInt(Files.readString(f).strip());
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    static String stateName(ContainerState s) {
        return switch (s) {
            case CONTAINER_CREATED -> "created";
            case CONTAINER_RUNNING -> "running";
            case CONTAINER_EXITED -> "exited";
            default -> "unknown";
        };
    }
}

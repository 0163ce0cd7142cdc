package io.stevedore.server.container;

import io.stevedore.cri.v1.ContainerConfig;
import io.stevedore.cri.v1.ContainerFilter;
import io.stevedore.cri.v1.ContainerStatus;
import io.stevedore.cri.v1.LinuxContainerResources;
import io.stevedore.oci.spec.Spec;
import io.stevedore.oci.spec.SpecJson;
import io.stevedore.server.error.CriException;
import io.stevedore.server.events.LifecycleEvents;
import io.stevedore.server.host.Procs;
import io.stevedore.server.state.Trash;
import io.stevedore.shim.ExitFile;
import io.stevedore.shim.ShimControl;
import io.stevedore.shim.ShimException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;

/**
 * The container RPCs. Each lifecycle operation lives in a class of its own ({@link
 * ContainerCreator}, {@link ContainerStarter}, {@link ContainerStopper}, {@link ContainerRecovery},
 * {@link ExitMonitor}); this class routes to them and answers the reads (status, list, exec, logs,
 * resources), which never wait for an operation in progress: they read the last stored record,
 * after applying an exit that already happened.
 */
public final class ContainerService implements ContainersInSandbox, AutoCloseable {
    private final ContainerEnv env;
    private final ContainerStore store;
    private final ExitMonitor exits;
    private final ContainerCreator creator;
    private final ContainerStarter starter;
    private final ContainerStopper stopper;
    private final ContainerRecovery recovery;
    private final ContainerUpdater updater;
    private final ContainerCheckpointer checkpointer;
    /** Parsed specs for exec, by container id; dropped on remove. */
    private final Map<String, Spec> execSpecs = new ConcurrentHashMap<>();

    public ContainerService(ContainerEnv env) throws IOException {
        this(env, LifecycleEvents.NONE);
    }

    /** @param events told of every container transition (GetContainerEvents) */
    public ContainerService(ContainerEnv env, LifecycleEvents events) throws IOException {
        this.env = env;
        Files.createDirectories(env.layers());
        Files.createDirectories(env.bundles());
        this.store = new ContainerStore(
                env.layout().containerRecords(),
                new ContainerTransitions(events, r -> ContainerProtos.status(r, readSpec(r.id()))));
        this.exits = new ExitMonitor(env, store);
        this.creator = new ContainerCreator(env, store);
        this.starter = new ContainerStarter(env, store, exits);
        this.stopper = new ContainerStopper(
                env,
                store,
                exits,
                new Trash(env.layout().containerLayersTrash()),
                new Trash(env.layout().bundlesTrash()),
                execSpecs::remove);
        this.recovery = new ContainerRecovery(env, store, exits);
        this.updater = new ContainerUpdater(env, store, this::current);
        this.checkpointer = new ContainerCheckpointer(env, this::record);
    }

    /** Loads and reconciles every stored container, then starts watching exits. */
    public void recover() throws IOException {
        recovery.recover();
        ContainerCheckpointer.sweep(env);
        exits.start();
    }

    /** CreateContainer. */
    public String create(String sandboxId, ContainerConfig cfg) {
        return creator.create(sandboxId, cfg);
    }

    /** StartContainer. */
    public void start(String id) {
        starter.start(id);
    }

    /** StopContainer; see {@link #stop(String, long, BooleanSupplier)}. */
    public void stop(String id, long timeoutSeconds) {
        stop(id, timeoutSeconds, () -> false);
    }

    /**
     * StopContainer: the stop signal, up to {@code timeoutSeconds} for the container to exit, then
     * SIGKILL. An unknown id is stopped already (the CRI says stop is idempotent; containerd 2.x
     * answers OK). {@code callerGone} ends the grace period early when the caller has gone, so the
     * kubelet's next StopContainer with a shorter grace period is not queued behind one of years.
     */
    public void stop(String id, long timeoutSeconds, BooleanSupplier callerGone) {
        store.find(id).ifPresent(c -> stopper.stop(c, timeoutSeconds, callerGone));
    }

    /** RemoveContainer: force-stops and forgets; idempotent. */
    public void remove(String id) {
        stopper.remove(id);
    }

    // ---------------------------------------------------------------- reads

    public ContainerStatus status(String id) {
        return ContainerProtos.status(current(store.get(id)), readSpec(id));
    }

    /** A verbose status: the spec, pid and runtime details as containerd shows them. */
    public Map<String, String> verboseInfo(String id) {
        ContainerRecord r = current(store.get(id));
        return ContainerProtos.verboseInfo(r, env.bundle(r.id()).resolve("config.json"));
    }

    public List<io.stevedore.cri.v1.Container> list(ContainerFilter f) {
        return store.all().stream()
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

    /** Records of every container (stats, image garbage collection). */
    public List<ContainerRecord> records() {
        return store.all().stream().map(this::current).toList();
    }

    public ContainerRecord record(String id) {
        return current(store.get(id));
    }

    /** The writable layer of a container. */
    public Path upperDir(String id) {
        return env.layer(id).resolve("upper");
    }

    @Override
    public List<ContainerStatus> statuses(String sandboxId) {
        return store.inSandbox(sandboxId).stream()
                .map(this::current)
                .map(r -> ContainerProtos.status(r, readSpec(r.id())))
                .toList();
    }

    /**
     * The statuses of the pod's containers as stored, oldest first: no exit is applied and nothing
     * waits (the events' snapshots, taken off the lifecycle's path).
     */
    public List<ContainerStatus> storedStatuses(String sandboxId) {
        return store.inSandbox(sandboxId).stream()
                .map(ContainerCell::record)
                .sorted(Comparator.comparingLong(ContainerRecord::createdAt))
                .map(r -> ContainerProtos.status(r, readSpec(r.id())))
                .toList();
    }

    @Override
    public void stopAll(String sandboxId, long timeoutSeconds) {
        for (ContainerCell c : store.inSandbox(sandboxId)) {
            stopper.stop(c, timeoutSeconds, () -> false);
        }
    }

    @Override
    public void removeAll(String sandboxId) {
        for (ContainerCell c : store.inSandbox(sandboxId)) {
            stopper.remove(c.id());
        }
    }

    /**
     * The record, after applying an exit that happened since it was stored (the exit file is there,
     * or the shim is gone), so a status never answers RUNNING for a container that has exited.
     */
    private ContainerRecord current(ContainerCell c) {
        ContainerRecord r = c.record();
        var s = r.status();
        if (s.isRunning()
                && (Files.exists(ExitFile.path(env.exits(), r.id())) || !Procs.alive(s.shimPid(), s.shimStartTime()))) {
            exits.reconcile(c);
        }
        return c.record();
    }

    // ---------------------------------------------------------------- exec, logs, resources

    /** ExecSync: runs {@code cmd} in the container and returns its output and exit code. */
    public ExecResult execSync(String id, List<String> cmd, long timeoutSeconds) {
        ContainerRecord r = current(store.get(id));
        if (!r.status().isRunning()) {
            throw new CriException.FailedPrecondition("exec in container \"" + id + "\": container is not running");
        }
        return ExecSync.run(
                env.runtime(r.sandboxId()),
                r.id(),
                env.bundle(r.id()),
                execProcess(r.id(), cmd, false),
                timeoutSeconds,
                env.execOutput(),
                env.sys());
    }

    /**
     * What an exec or attach session needs of a running container.
     *
     * @throws CriException.NotFound for an unknown container
     * @throws CriException.FailedPrecondition when it is not running
     */
    StreamTarget streamTarget(String id, String action) {
        ContainerRecord r = current(store.get(id));
        if (!r.status().isRunning()) {
            throw new CriException.FailedPrecondition(
                    action + " container \"" + r.id() + "\": container is not running");
        }
        return new StreamTarget(
                r.id(),
                r.sandboxId(),
                r.criConfig(),
                env.runtime(r.sandboxId()),
                env.bundle(r.id()),
                env.shimDir(r.id()),
                env.sys());
    }

    /** The OCI process to exec in a running container. */
    io.stevedore.oci.spec.Process execProcess(String id, List<String> cmd, boolean tty) {
        return env.specs().execProcess(execSpec(id), cmd, tty);
    }

    /**
     * The container's spec as exec needs it, parsed once per container: its process part never
     * changes after create (UpdateContainerResources rewrites only {@code linux.resources}), and parsing the whole
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
        if (!store.contains(id)) {
            execSpecs.remove(id); // removed meanwhile
        }
        return spec;
    }

    /**
     * ReopenContainerLog: the shim reopens the log file (after kubelet renamed it). Only a running
     * container has a writer to reopen: otherwise FAILED_PRECONDITION, as containerd answers.
     */
    public void reopenLog(String id) {
        ContainerRecord r = current(store.get(id));
        if (!r.status().isRunning()) {
            throw new CriException.FailedPrecondition(
                    "reopen log of container \"" + r.id() + "\": container is not running");
        }
        try (ShimControl ctl = ShimControl.connect(env.shimDir(r.id()).resolve("ctl.sock"))) {
            ctl.reopenLog();
        } catch (IOException | ShimException e) {
            throw new IllegalStateException("reopen log of container \"" + id + "\": " + e.getMessage(), e);
        }
    }

    /** UpdateContainerResources: see {@link ContainerUpdater}. */
    public void updateResources(String id, LinuxContainerResources res) {
        updater.update(store.get(id), res);
    }

    /**
     * CheckpointContainer: a CRIU checkpoint of the running container, archived at {@code location}
     * as the kubelet's checkpoint API writes it ({@link ContainerCheckpointer}); it keeps running.
     */
    public void checkpoint(String id, String location, long timeoutSeconds) {
        checkpointer.checkpoint(id, location, timeoutSeconds);
    }

    @Override
    public void close() throws IOException {
        exits.close();
    }

    // ---------------------------------------------------------------- helpers

    /** {@code <base>/<first 20 hex digits of the id>}: the shim's socket directory. */
    public static Path shimSocketDir(Path base, String id) {
        return ContainerEnv.shimSocketDir(base, id);
    }

    private Optional<Spec> readSpec(String id) {
        try {
            return Optional.of(SpecJson.read(env.bundle(id).resolve("config.json")));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}

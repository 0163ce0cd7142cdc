package io.stevedore.server.container;

import io.stevedore.cri.v1.ContainerConfig;
import io.stevedore.oci.runtime.OciRuntime;
import io.stevedore.oci.runtime.OciRuntimeException;
import io.stevedore.server.error.CriException;
import io.stevedore.server.host.Procs;
import io.stevedore.server.host.Signals;
import io.stevedore.server.state.Failpoints;
import io.stevedore.shim.ExitFile;
import io.stevedore.shim.ShimException;
import io.stevedore.shim.ShimSpec;
import io.stevedore.shim.ShimStarted;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * StartContainer: a shim per container (which runs {@code <runtime> create} and stays as the
 * container's monitor), then {@code <runtime> start}. The container is marked starting for the
 * whole time and nothing is locked meanwhile, so a status or a list answers at once (as CREATED)
 * and a second start or a remove is refused. A failed start records the container EXITED with
 * reason {@code StartError} and the runtime's message, and gives back what the attempt held.
 */
final class ContainerStarter {
    private static final Logger log = LoggerFactory.getLogger(ContainerStarter.class);

    private final ContainerEnv env;
    private final ContainerStore store;
    private final ExitMonitor exits;

    ContainerStarter(ContainerEnv env, ContainerStore store, ExitMonitor exits) {
        this.env = env;
        this.store = store;
        this.exits = exits;
    }

    void start(String id) {
        ContainerCell c = store.get(id);
        c.beginStart();
        try {
            startMarked(c);
        } catch (IOException e) {
            throw new UncheckedIOException("start container \"" + c.id() + "\": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CriException.Unavailable("start container \"" + c.id() + "\": interrupted", e);
        } finally {
            c.endStart();
        }
        // It may have exited already (a short-lived command): the watcher sees the file too.
        exits.reconcile(c);
    }

    private void startMarked(ContainerCell c) throws IOException, InterruptedException {
        ContainerRecord r = c.record();
        String id = r.id();
        Pods.Pod pod = env.pods().ready(r.sandboxId(), false);
        OciRuntime rt = env.runtimes().get(pod.runtimeHandler());
        ContainerConfig cfg = r.criConfig();
        Path bundle = env.bundle(id);
        Path shimDir = Files.createDirectories(env.shimDir(id));
        Path logPath = r.logPath().isEmpty() ? bundle.resolve("container.log") : Path.of(r.logPath());
        var spec = new ShimSpec(
                id,
                bundle,
                rt.binary(),
                rt.root(),
                logPath,
                env.exits(),
                shimDir,
                bundle.resolve("init.pid"),
                cfg.getTty(),
                cfg.getStdin());
        ShimStarted started;
        Failpoints.hit(Failpoints.CTR_START_BEFORE_SHIM);
        try {
            started = env.shims().start(spec);
        } catch (ShimException e) {
            ExitMonitor.deleteQuietly(rt, id);
            String msg = e.runtimeMessage().orElse(e.getMessage());
            failed(c, msg);
            throw new IllegalStateException("start container \"" + id + "\": " + msg, e);
        }
        int shimPid = Procs.readPidFile(spec.shimPidFile());
        long shimStart = Procs.startTime(shimPid);
        // The shim holds the created init as its child, unreaped: this is its start time.
        long pidStart = Procs.startTime(started.pid());
        // Taken before the process can run, so a quick exit never finishes before it started.
        long startedAt = env.now();
        Failpoints.hit(Failpoints.CTR_START_AFTER_SHIM);
        try {
            rt.start(id);
        } catch (OciRuntimeException e) {
            ExitMonitor.killQuietly(rt, id, Signals.SIGKILL, true);
            awaitExitFile(id, Duration.ofSeconds(5));
            ExitFile.remove(env.exits(), id);
            ExitMonitor.deleteQuietly(rt, id);
            env.sys().reap(shimPid);
            failed(c, e.runtimeMessage());
            throw new IllegalStateException("start container \"" + id + "\": " + e.getMessage(), e);
        }
        Failpoints.hit(Failpoints.CTR_START_AFTER_RUNTIME_START);
        c.update(s -> s.started(started.pid(), pidStart, shimPid, shimStart, startedAt), store::persist);
    }

    /** Records the failed start, and unmounts the rootfs and image volumes (the runtime state was deleted already). */
    private void failed(ContainerCell c, String message) {
        long at = env.now();
        c.update(s -> s.startFailed(at, message == null ? "" : message), store::persist);
        try {
            ImageVolumes.unmountBundle(env.rootfs(), env.bundle(c.id()));
        } catch (IOException e) {
            log.atWarn().addKeyValue("id", c.id()).setCause(e).log("unmounting rootfs failed");
        }
        c.released = CompletableFuture.completedFuture(true);
    }

    /** The shim's exit file after a failed {@code start}: bounded, the init was just killed. */
    private void awaitExitFile(String id, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!Files.exists(ExitFile.path(env.exits(), id)) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }
}

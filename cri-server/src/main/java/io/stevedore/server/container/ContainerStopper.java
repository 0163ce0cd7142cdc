package io.stevedore.server.container;

import io.stevedore.oci.runtime.OciRuntime;
import io.stevedore.oci.spec.Linux;
import io.stevedore.oci.spec.Spec;
import io.stevedore.oci.spec.SpecJson;
import io.stevedore.server.error.CriException;
import io.stevedore.server.host.Procs;
import io.stevedore.server.host.Signals;
import io.stevedore.server.state.Failpoints;
import io.stevedore.server.state.Trash;
import io.stevedore.shim.ExitFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * StopContainer and RemoveContainer. Neither holds the container's lock while it waits: a stop
 * signals, waits for the exit the monitor records (a grace period may be long, and a status, a list
 * or a sibling's removal must not queue behind it: issue 12), then kills. Two stops of one
 * container may run together; a remove is marked on the container so a start or a second remove
 * cannot interleave with it.
 */
final class ContainerStopper {
    private static final Logger log = LoggerFactory.getLogger(ContainerStopper.class);

    /** The longest stop grace period honoured: a hundred years. */
    static final long MAX_STOP_TIMEOUT_S = 100L * 365 * 24 * 3600;

    private static final BooleanSupplier NEVER = () -> false;

    private final ContainerEnv env;
    private final ContainerStore store;
    private final ExitMonitor exits;
    private final Trash layerTrash;
    private final Trash bundleTrash;
    private final Consumer<String> forget;

    /** @param forget drops what the service caches for a removed container */
    ContainerStopper(
            ContainerEnv env,
            ContainerStore store,
            ExitMonitor exits,
            Trash layerTrash,
            Trash bundleTrash,
            Consumer<String> forget) {
        this.env = env;
        this.store = store;
        this.exits = exits;
        this.layerTrash = layerTrash;
        this.bundleTrash = bundleTrash;
        this.forget = forget;
    }

    /**
     * The stop signal, up to {@code timeoutSeconds} for the container to exit, then SIGKILL. A
     * container that is not running is stopped already. {@code callerGone} is polled during the
     * grace period: when the caller has gone (cancelled, or past its deadline), the wait ends there.
     */
    void stop(ContainerCell c, long timeoutSeconds, BooleanSupplier callerGone) {
        String id = c.id();
        try {
            c.awaitNotStarting(callerGone);
            exits.reconcile(c);
            ContainerRecord r = c.record();
            if (!r.status().isRunning()) {
                return;
            }
            OciRuntime rt = env.runtime(r.sandboxId());
            if (timeoutSeconds > 0) {
                int sig = Signals.stopSignal(r.criConfig().getStopSignal(), imageStopSignal(r));
                signalInit(rt, r, sig);
                Failpoints.hit(Failpoints.CTR_STOP_AFTER_SIGNAL);
                // A grace period is an int64 of seconds from the pod author; in nanoseconds it overflows
                // past 292 years (and used to fail the stop with UNKNOWN after SIGTERM).
                var grace = Duration.ofSeconds(Math.min(timeoutSeconds, MAX_STOP_TIMEOUT_S));
                if (exits.awaitExit(c, grace, callerGone)) {
                    exits.reconcile(c);
                    return;
                }
                if (callerGone.getAsBoolean()) {
                    throw new CancellationException("stop container \"" + id
                            + "\": the caller went away during the grace period; the container has its stop signal");
                }
            }
            if (ownsPidNamespace(id)) {
                signalInit(rt, r, Signals.SIGKILL); // init of its own PID namespace: the kernel kills the rest
            } else {
                ExitMonitor.killQuietly(rt, id, Signals.SIGKILL, true); // every process of its cgroup
            }
            if (!exits.awaitExit(c, Duration.ofSeconds(30), NEVER)
                    && Procs.alive(r.status().shimPid(), r.status().shimStartTime())) {
                throw new IllegalStateException("stop container \"" + id + "\": still running 30s after SIGKILL");
            }
            exits.reconcile(c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CriException.Unavailable("stop container \"" + id + "\": interrupted", e);
        }
    }

    /**
     * Force-stops, deletes the runtime state, unmounts, moves the bundle and writable layer to the
     * trash, forgets. Idempotent: an unknown id, or one removed meanwhile, is removed already.
     */
    void remove(String id) {
        ContainerCell c = store.find(id).orElse(null);
        if (c == null) return; // already gone: kubelet retries removals
        try {
            if (!c.beginRemove()) return; // a concurrent remove did it
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CriException.Unavailable("remove container \"" + id + "\": interrupted", e);
        }
        boolean gone = false;
        try {
            stop(c, 0, NEVER);
            ContainerRecord r = c.record();
            // A container that never ran has no runtime state; one whose exit was released has none left.
            CompletableFuture<Boolean> released = c.released;
            if (r.status().ran() && (released == null || !released.join())) {
                exits.deleteRuntimeState(r);
            }
            Failpoints.hit(Failpoints.CTR_REMOVE_AFTER_RUNTIME_DELETE);
            String cid = r.id();
            ImageVolumes.unmountBundle(env.rootfs(), env.bundle(cid));
            Failpoints.hit(Failpoints.CTR_REMOVE_AFTER_UNMOUNT);
            bundleTrash.discard(env.bundle(cid));
            bundleTrash.discard(env.shimDir(cid));
            layerTrash.discard(env.layer(cid));
            ExitFile.remove(env.exits(), cid);
            store.remove(r);
            forget.accept(cid);
            gone = true;
        } catch (IOException e) {
            throw new UncheckedIOException("remove container \"" + id + "\": " + e.getMessage(), e);
        } finally {
            c.endRemove(gone);
        }
    }

    /**
     * Signals the container's init directly (a pidfd, checked against its recorded start time)
     * rather than through {@code <runtime> kill}, a process spawn of ~10 ms; falls back to the
     * runtime when the start time is unknown (a record from before it was kept).
     */
    private void signalInit(OciRuntime rt, ContainerRecord r, int signal) {
        var s = r.status();
        if (s.pid() > 0 && s.pidStartTime() > 0) {
            try {
                Procs.signal(env.sys(), s.pid(), s.pidStartTime(), signal);
                return; // or it is gone already: its exit file is on the way
            } catch (IOException e) {
                log.atDebug()
                        .addKeyValue("id", r.id())
                        .log("pidfd signal failed, asking the runtime: {}", e.toString());
            }
        }
        ExitMonitor.killQuietly(rt, r.id(), signal, false);
    }

    private boolean ownsPidNamespace(String id) {
        try {
            Spec spec = SpecJson.read(env.bundle(id).resolve("config.json"));
            if (spec.linux() == null || spec.linux().namespaces() == null) return false;
            return spec.linux().namespaces().stream()
                    .anyMatch(n -> n.type() == Linux.NamespaceType.PID
                            && (n.path() == null || n.path().isEmpty()));
        } catch (IOException e) {
            return false;
        }
    }

    private String imageStopSignal(ContainerRecord r) {
        try {
            return env.images()
                    .find(r.imageId())
                    .map(i -> env.images().config(i).stopSignal())
                    .orElse("");
        } catch (RuntimeException e) {
            return "";
        }
    }
}

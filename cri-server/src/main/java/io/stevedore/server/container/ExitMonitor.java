package io.stevedore.server.container;

import io.stevedore.oci.runtime.OciRuntime;
import io.stevedore.oci.runtime.OciRuntimeException;
import io.stevedore.server.host.Procs;
import io.stevedore.server.host.Signals;
import io.stevedore.server.state.Dirs;
import io.stevedore.shim.ExitFile;
import io.stevedore.shim.ExitStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices container exits and records them. Exits are noticed three ways, all idempotent: the exit
 * directory is watched (inotify: the shim writes {@code <exits>/<id>}), every read of a running
 * container checks its exit file ({@link #reconcile}), and a check every second finds shims that
 * died without writing one. Recording an exit takes the container's lock only to commit it; what
 * the run held (runtime state, rootfs mount, shim sockets) is released in the background.
 */
final class ExitMonitor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ExitMonitor.class);

    private final ContainerEnv env;
    private final ContainerStore store;
    private final WatchService watcher;
    private final Thread watchThread;
    private final Thread shimThread;
    private volatile boolean closed;

    ExitMonitor(ContainerEnv env, ContainerStore store) throws IOException {
        this.env = env;
        this.store = store;
        Files.createDirectories(env.exits());
        this.watcher = FileSystems.getDefault().newWatchService();
        env.exits().register(watcher, StandardWatchEventKinds.ENTRY_CREATE);
        this.watchThread = Thread.ofPlatform().daemon().name("exit-watcher").unstarted(this::watchExits);
        this.shimThread = Thread.ofPlatform().daemon().name("shim-watcher").unstarted(this::watchShims);
    }

    /** Starts watching; after recovery has loaded every container. */
    void start() {
        watchThread.start();
        shimThread.start();
    }

    /**
     * Records the exit of a running container if it happened: its exit file (the shim's record),
     * else a dead shim without one. Idempotent; nothing for a container that is not running.
     */
    void reconcile(ContainerCell c) {
        ContainerRecord r = c.record();
        String id = r.id();
        if (!r.status().isRunning()) {
            return;
        }
        try {
            UnaryOperator<ContainerRecord.Status> exit;
            Optional<ExitStatus> file = ExitFile.read(env.exits(), id);
            if (file.isPresent()) {
                long finished = Files.getLastModifiedTime(ExitFile.path(env.exits(), id))
                        .to(TimeUnit.NANOSECONDS);
                ExitStatus es = file.get();
                String reason = es.oomKilled() ? "OOMKilled" : es.code() == 0 ? "Completed" : "Error";
                exit = s -> s.exited(finished, es.code(), reason, "");
            } else if (!Procs.alive(r.status().shimPid(), r.status().shimStartTime())) {
                // The shim died without recording an exit (killed): no monitor, no log. Whatever
                // still runs in the container is killed, outside the lock (a runtime call).
                killQuietly(env.runtime(r.sandboxId()), id, Signals.SIGKILL, true);
                if (ExitFile.read(env.exits(), id).isPresent()) {
                    reconcile(c);
                    return;
                }
                long now = env.now();
                exit = s ->
                        s.exited(now, 255, "Error", "the container's monitor (stevedore-shim) died; exit status lost");
            } else {
                return;
            }
            // The release is published with the exit, under the cell's lock: whoever sees the container
            // exited (a remove) sees the release it must wait for.
            var release = new CompletableFuture<Boolean>();
            if (c.updateIf(ContainerRecord.Status::isRunning, exit, next -> {
                store.persist(next);
                c.released = release;
            })) {
                ExitFile.remove(env.exits(), id);
                releaseInto(release, r);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("container \"" + id + "\": applying its exit: " + e.getMessage(), e);
        }
    }

    /**
     * Waits until the container is no longer running, or its exit file is there (the watcher may be
     * a moment behind), for at most {@code timeout}; false also as soon as {@code gone}.
     */
    boolean awaitExit(ContainerCell c, Duration timeout, BooleanSupplier gone) throws InterruptedException {
        Path f = ExitFile.path(env.exits(), c.id());
        return c.await(r -> !r.status().isRunning() || Files.exists(f), timeout.toNanos(), gone);
    }

    /**
     * Releases what a run held once its exit is stored: the runtime's state and cgroup ({@code
     * <runtime> delete}), the image volumes and rootfs mount, the shim's sockets. In that order, so a rootfs still
     * mounted at recovery means the release may not have finished. Returns whether the runtime state
     * is gone.
     */
    boolean release(ContainerRecord r) {
        String id = r.id();
        boolean deleted = deleteRuntimeState(r);
        if (Thread.currentThread().isInterrupted()) return false;
        try {
            ImageVolumes.unmountBundle(env.rootfs(), env.bundle(id));
            Dirs.deleteTree(env.shimDir(id));
        } catch (IOException | RuntimeException e) {
            log.atWarn().addKeyValue("id", id).setCause(e).log("releasing an exited container failed");
        }
        if (r.status().shimPid() > 0) env.sys().reap(r.status().shimPid());
        return deleted;
    }

    /** Runs {@link #release} in the background and remembers it on the cell. */
    void releaseInBackground(ContainerCell c, ContainerRecord r) {
        var release = new CompletableFuture<Boolean>();
        c.released = release;
        releaseInto(release, r);
    }

    private void releaseInto(CompletableFuture<Boolean> release, ContainerRecord r) {
        Thread.startVirtualThread(() -> {
            try {
                release.complete(release(r));
            } catch (RuntimeException | Error e) {
                release.completeExceptionally(e);
            }
        });
    }

    /** {@code <runtime> delete --force} of the container's runtime state; whether it is gone. */
    boolean deleteRuntimeState(ContainerRecord r) {
        try {
            return deleteQuietly(env.runtime(r.sandboxId()), r.id());
        } catch (RuntimeException e) {
            log.atWarn().addKeyValue("id", r.id()).setCause(e).log("runtime delete failed");
            return false;
        }
    }

    /**
     * {@code <runtime> delete --force}; a failure is logged. Returns whether it succeeded: false also
     * when interrupted, with the thread's interrupt flag set again.
     */
    static boolean deleteQuietly(OciRuntime rt, String id) {
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

    static void killQuietly(OciRuntime rt, String id, int signal, boolean all) {
        try {
            rt.kill(id, signal, all);
        } catch (OciRuntimeException e) {
            log.atDebug().addKeyValue("id", id).log("kill {}: {}", signal, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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
                if (ev.context() instanceof Path p) {
                    ContainerCell c = store.exact(p.getFileName().toString());
                    if (c != null) {
                        Thread.ofVirtual().start(() -> apply(c));
                    }
                }
            }
            key.reset();
        }
    }

    /**
     * Every second: shims that died (their containers are recorded exited) and shims of exited
     * containers to reap (the daemon is their subreaper).
     */
    private void watchShims() {
        while (!closed) {
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                return;
            }
            for (ContainerCell c : store.all()) {
                var s = c.record().status();
                if (s.shimPid() > 0 && s.isRunning() && !Procs.alive(s.shimPid(), s.shimStartTime())) {
                    env.sys().reap(s.shimPid());
                    apply(c);
                } else if (s.shimPid() > 0 && !s.isRunning()) {
                    env.sys().reap(s.shimPid());
                }
            }
        }
    }

    private void apply(ContainerCell c) {
        try {
            reconcile(c);
            c.signalChanged();
        } catch (RuntimeException e) {
            log.atWarn().addKeyValue("id", c.id()).setCause(e).log("applying an exit failed");
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        watcher.close();
        shimThread.interrupt();
    }
}

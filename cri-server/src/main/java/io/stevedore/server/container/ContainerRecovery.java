package io.stevedore.server.container;

import io.stevedore.cri.v1.ContainerState;
import io.stevedore.oci.runtime.OciRuntime;
import io.stevedore.oci.runtime.OciRuntimeException;
import io.stevedore.oci.runtime.OciState;
import io.stevedore.server.host.Procs;
import io.stevedore.server.state.Dirs;
import io.stevedore.shim.ExitFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Start-up recovery of containers, before the daemon serves: every stored container is loaded and
 * reconciled with the machine (exits recorded by shims while the daemon was down are applied, a
 * container whose shim vanished is recorded exited, a release cut short is finished), then bundles,
 * writable layers and exit files that belong to no container are removed.
 *
 * <p>Assumptions: a record is written before anything it names is made visible to an RPC, and is
 * removed last; so files without a record are leftovers of a create or remove cut short. A record
 * that cannot be read (corrupt, or from a newer daemon) still owns its files: they are kept, and
 * logged, never deleted as leftovers (a running container's writable layer would go).
 */
final class ContainerRecovery {
    private static final Logger log = LoggerFactory.getLogger(ContainerRecovery.class);

    private final ContainerEnv env;
    private final ContainerStore store;
    private final ExitMonitor exits;

    ContainerRecovery(ContainerEnv env, ContainerStore store, ExitMonitor exits) {
        this.env = env;
        this.store = store;
        this.exits = exits;
    }

    void recover() throws IOException {
        Set<String> unreadable = new HashSet<>();
        for (ContainerRecord r : store.load((p, e) -> {
            unreadable.add(p.getFileName().toString().replaceFirst("\\.json$", ""));
            log.atError()
                    .addKeyValue("file", p)
                    .setCause(e)
                    .log("container record unreadable (set aside at {}): the container is left as it is, unmanaged", p);
        })) {
            store.add(r);
            store.reserve(r.name(), r.id());
        }
        unreadable.addAll(store.setAside());
        var mounted = new HashSet<>(Dirs.mountPoints());
        for (ContainerCell c : store.all()) {
            try {
                if (c.record().status().canStart()) {
                    interruptedStart(c);
                }
                ContainerState before = c.record().status().state();
                exits.reconcile(c);
                ContainerRecord r = c.record();
                // An exit stored just before the daemon died may not have been released (the rootfs is
                // unmounted last); one recorded by reconcile above is being released already.
                if (before == ContainerState.CONTAINER_EXITED
                        && r.status().ran()
                        && mounted.contains(env.bundle(r.id()).resolve("rootfs").toString())) {
                    exits.releaseInBackground(c, r);
                }
            } catch (RuntimeException e) {
                log.atWarn().addKeyValue("id", c.id()).setCause(e).log("recovering container failed");
            }
        }
        Set<String> owned = new HashSet<>(unreadable);
        store.all().forEach(c -> owned.add(c.id()));
        for (Path p : list(env.bundles())) {
            if (!owned.contains(p.getFileName().toString())) {
                log.atInfo().addKeyValue("bundle", p).log("removing a bundle no container owns");
                ImageVolumes.unmountBundle(env.rootfs(), p);
                Dirs.deleteTree(p);
            }
        }
        for (Path p : list(env.layers())) {
            if (!owned.contains(p.getFileName().toString())) {
                Dirs.deleteTree(p);
            }
        }
        for (Path p : list(env.exits())) {
            // <id>, <id>.oom, and their .tmp while a shim writes them
            String id = p.getFileName().toString().replaceFirst("(\\.oom)?(\\.tmp)?$", "");
            if (!owned.contains(id)) {
                Files.deleteIfExists(p); // left by a crash between an exit and its container's removal
            }
        }
    }

    /**
     * A CREATED container whose shim exists: the daemon died during its StartContainer, after the
     * shim ran {@code <runtime> create} (issue 13's ghosts: a process running that no list showed
     * as running, and a kubelet would start a second copy). The runtime says how far it got: a
     * running or stopped container is recorded as started (and its exit, if any, applied next); one
     * only created is deleted, so the kubelet's next StartContainer starts it afresh.
     */
    private void interruptedStart(ContainerCell c) {
        String id = c.id();
        Path shimPidFile = env.shimDir(id).resolve("shim.pid");
        if (!Files.exists(shimPidFile)) return;
        OciRuntime rt = env.runtime(c.record().sandboxId());
        Optional<OciState> state;
        try {
            state = rt.state(id);
        } catch (OciRuntimeException e) {
            log.atWarn().addKeyValue("id", id).log("runtime state after an interrupted start: {}", e.getMessage());
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        if (state.isEmpty()) return;
        int shimPid = Procs.readPidFile(shimPidFile);
        switch (state.get().status()) {
            case RUNNING, STOPPED, PAUSED, PAUSING -> {
                int pid = state.get().pid();
                long pidStart = pid > 0 ? Procs.startTime(pid) : 0;
                long shimStart = Procs.startTime(shimPid);
                long at = env.now();
                c.update(s -> s.started(pid, pidStart, shimPid, shimStart, at), store::persist);
                log.atWarn()
                        .addKeyValue("id", id)
                        .addKeyValue("pid", pid)
                        .log(
                                "container found {} after an interrupted start: recorded as started",
                                state.get().status());
            }
            default -> {
                ExitMonitor.deleteQuietly(rt, id); // kills the init waiting to be started
                // The shim writes an exit file for that init and exits: wait for it, so that file
                // cannot turn up after the next StartContainer and pass for its exit.
                long shimStart = Procs.startTime(shimPid);
                long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
                try {
                    while (Procs.alive(shimPid, shimStart) && System.nanoTime() < deadline) {
                        env.sys().reap(shimPid);
                        Thread.sleep(10);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                try {
                    ExitFile.remove(env.exits(), id);
                    Dirs.deleteTree(env.shimDir(id));
                } catch (IOException e) {
                    log.atWarn().addKeyValue("id", id).setCause(e).log("cleaning an interrupted start failed");
                }
                if (shimPid > 0) env.sys().reap(shimPid);
                log.atWarn()
                        .addKeyValue("id", id)
                        .log("container created but never started: its runtime state is deleted");
            }
        }
    }

    private static java.util.List<Path> list(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return java.util.List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }
}

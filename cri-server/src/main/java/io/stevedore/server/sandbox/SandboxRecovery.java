package io.stevedore.server.sandbox;

import io.stevedore.cri.v1.NamespaceMode;
import io.stevedore.cri.v1.PodSandboxConfig;
import io.stevedore.server.state.RecordStore;
import java.io.IOException;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings the pods back before the daemon serves (STYLE C8), and gives back what a crash left that
 * no pod owns, so that recovery converges whatever moment the daemon died at (issue 13).
 *
 * <p>What it assumes:
 *
 * <ul>
 *   <li>The records are the truth about which pods exist. Nothing is running on any of them: the
 *       operation flags start cleared, and a stop or remove cut short by the restart is the
 *       kubelet's to retry (each of its steps is idempotent).
 *   <li>A pod stored READY is still ready only if each of its pins is still a namespace (a reboot,
 *       or a run root lost with its tmpfs, takes them) and its pause, if it has one, is still the
 *       same process. Otherwise it is stored NOTREADY, and keeps what it may still hold for its
 *       stop to give back.
 *   <li>A record this daemon cannot read (corrupt: set aside; or written by a newer daemon: {@link
 *       RecordStore.UnknownVersion}) may describe a pod that is alive: nothing of its id is
 *       touched, and an operator is told at ERROR.
 *   <li>RunPodSandbox writes the pod's config into its state directory before it acquires
 *       anything, and stores the record last. So an id with directories and no record is a run
 *       cut short: its CNI attachment (DEL with that config), pins, shm, cgroup and directories
 *       are given back, each step idempotent.
 *   <li>Every pause of this daemon runs for a pod that names it, or for none: a crash between the
 *       pause's spawn and its record leaves one no pod names, which is killed.
 *   <li>Pins of no pod, and CNI attachments of no live pod (CNI GC, by the cached results), are
 *       what such runs or removals left: released.
 * </ul>
 */
final class SandboxRecovery {
    private static final Logger log = LoggerFactory.getLogger(SandboxRecovery.class);

    private final SandboxStore store;
    private final SandboxDirs dirs;
    private final NamespacePinner pinner;
    private final PauseLauncher pause;
    private final PodNetwork network;
    private final PodCgroups cgroups;

    SandboxRecovery(
            SandboxStore store,
            SandboxDirs dirs,
            NamespacePinner pinner,
            PauseLauncher pause,
            PodNetwork network,
            PodCgroups cgroups) {
        this.store = store;
        this.dirs = dirs;
        this.pinner = pinner;
        this.pause = pause;
        this.network = network;
        this.cgroups = cgroups;
    }

    void recover() throws IOException {
        Set<String> unreadable = new HashSet<>(store.setAside());
        var records = store.load((id, e) -> {
            unreadable.add(id);
            var event = log.atError().addKeyValue("podSandboxId", id);
            if (!(e instanceof RecordStore.UnknownVersion)) event = event.setCause(e); // the message says it all
            event.log(
                    "sandbox record cannot be read ({}): the pod is not served, and its namespaces and"
                            + " directories are left in place",
                    e.getMessage());
        });
        for (SandboxRecord r : records) {
            Sandbox s = store.restore(r);
            if (r.status().state() == SandboxStatus.State.READY) {
                lostWhat(r).ifPresent(what -> {
                    log.atWarn()
                            .addKeyValue("podSandboxId", r.id())
                            .log("sandbox lost its {} while the daemon was down: NOTREADY", what);
                    s.updateAndCheckpoint(SandboxStatus::lost);
                });
            }
        }
        Predicate<String> owned =
                id -> unreadable.contains(id) || store.exact(id).isPresent();
        killStrayPauses();
        for (String id : dirs.ids()) {
            if (!owned.test(id)) giveBackRun(id);
        }
        dirs.sweep(owned);
        for (String id : pinner.pinnedIds()) {
            if (!owned.test(id)) giveBackRun(id);
        }
        collectNetworkGarbage(unreadable);
    }

    /**
     * Gives back what a run cut short may have acquired, newest first as its undo would have: the
     * CNI attachment (with the run's config when it was written; the network's own DEL otherwise),
     * the pins, the shm mount, the pod's own cgroup. Each step is tried; a failure is logged and
     * the next start tries again (the directories stay while anything failed).
     */
    private void giveBackRun(String id) {
        Optional<PodSandboxConfig> cfg = dirs.runConfig(id);
        log.atWarn()
                .addKeyValue("podSandboxId", id)
                .log("giving back a pod whose run was cut short (config {})", cfg.isPresent() ? "found" : "missing");
        var ns = cfg.map(c -> c.getLinux().getSecurityContext().getNamespaceOptions());
        boolean hostNet = ns.map(o -> o.getNetwork() == NamespaceMode.NODE).orElse(false);
        boolean failed = false;
        if (!hostNet) {
            failed |= !attempt(
                    id,
                    "CNI DEL",
                    () -> network.tearDown(id, pinner.netnsPin(id), cfg.orElse(PodSandboxConfig.getDefaultInstance())));
        }
        failed |= !attempt(id, "releasing pins", () -> pinner.release(id));
        dirs.unmountShm(dirs.shm(id));
        String parent = cfg.map(c -> c.getLinux().getCgroupParent()).orElse("");
        String podParent = parent.isEmpty() ? cgroups.ownParent(id) : parent;
        cgroups.remove(podParent + "/" + id); // a pause's, had one started
        if (parent.isEmpty()) cgroups.remove(podParent);
        if (!failed) {
            attempt(id, "removing directories", () -> {
                try {
                    dirs.discard(id);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }
    }

    /** Kills every pause of this daemon's that no pod names (see {@link PauseLauncher#running}). */
    private void killStrayPauses() {
        Set<PauseLauncher.Started> named = new HashSet<>();
        store.all().forEach(s -> s.status().pause().ifPresent(named::add));
        for (PauseLauncher.Started p : pause.running()) {
            if (named.contains(p)) continue;
            log.atWarn().addKeyValue("pid", p.pid()).log("killing a pause no pod names (a start cut short)");
            try {
                pause.killStray(p);
            } catch (RuntimeException e) {
                log.atWarn().addKeyValue("pid", p.pid()).setCause(e).log("killing a stray pause failed");
            }
        }
    }

    /**
     * CNI GC with every pod that may hold its attachment (all but the STOPPED, which gave theirs
     * back, and those of unreadable records, whose ids are kept as they are).
     */
    private void collectNetworkGarbage(Set<String> unreadable) {
        Set<String> attached = new HashSet<>(unreadable);
        for (Sandbox s : store.all()) {
            if (s.status().state() != SandboxStatus.State.STOPPED) attached.add(s.id());
        }
        try {
            network.collectGarbage(attached);
        } catch (RuntimeException e) {
            log.atWarn().setCause(e).log("CNI GC failed; the next start tries again");
        }
    }

    private static boolean attempt(String id, String what, Runnable step) {
        try {
            step.run();
            return true;
        } catch (RuntimeException e) {
            log.atWarn().addKeyValue("podSandboxId", id).setCause(e).log("{} of a cut-short run failed", what);
            return false;
        }
    }

    /** What a READY pod lost, if anything: a pinned namespace or its pause. */
    private Optional<String> lostWhat(SandboxRecord r) {
        SandboxMetadata m = r.metadata();
        Optional<String> pin = Stream.of(m.netnsPath(), m.ipcnsPath(), m.utsnsPath())
                .flatMap(Optional::stream)
                .filter(p -> !pinner.isPinned(p))
                .findFirst()
                .map(p -> "namespace " + p);
        if (pin.isPresent()) return pin;
        return r.status().pause().filter(p -> !pause.isRunning(p)).map(p -> "pause (pid " + p.pid() + ")");
    }
}

package io.stevedore.server.sandbox;

import io.stevedore.server.state.RecordStore;
import java.io.IOException;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings the pods back before the daemon serves (STYLE C8).
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
 *   <li>A record this daemon cannot read (corrupt, or written by a newer daemon: {@link
 *       RecordStore.UnknownVersion}) may describe a pod that is alive: its pinned namespaces and
 *       its state and run directories are left as they are, and an operator is told at ERROR.
 *   <li>A state or run directory of no pod at all was left by a run cut short by a crash: it is
 *       removed (its shm unmounted first). The pins and CNI attachment such a run may have made
 *       are not found this way and stay.
 * </ul>
 */
final class SandboxRecovery {
    private static final Logger log = LoggerFactory.getLogger(SandboxRecovery.class);

    private final SandboxStore store;
    private final SandboxDirs dirs;
    private final NamespacePinner pinner;
    private final PauseLauncher pause;

    SandboxRecovery(SandboxStore store, SandboxDirs dirs, NamespacePinner pinner, PauseLauncher pause) {
        this.store = store;
        this.dirs = dirs;
        this.pinner = pinner;
        this.pause = pause;
    }

    void recover() throws IOException {
        Set<String> unreadable = new HashSet<>();
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
        dirs.sweep(id -> unreadable.contains(id) || store.exact(id).isPresent());
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

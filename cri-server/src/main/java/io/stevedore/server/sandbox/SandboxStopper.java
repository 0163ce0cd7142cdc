package io.stevedore.server.sandbox;

import io.stevedore.server.container.ContainersInSandbox;
import io.stevedore.server.state.Failpoints;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * StopPodSandbox and RemovePodSandbox. Stop gives back what the pod holds on the machine (its
 * containers stop, then its pause, CNI attachment, pinned namespaces and shm go) and keeps its
 * record; remove stops, removes its containers, then forgets it. Both are idempotent, as api.proto
 * requires: an unknown id, a stopped pod to stop and a removed pod to remove are all OK.
 *
 * <p>Each marks the pod ({@code stopping}, {@code removing}) under its lock, does the slow work
 * without it, and commits the outcome under it (see {@link Sandbox}). A second stop or remove of
 * the same pod waits for the first to end, then finds the work done. When giving back fails part
 * way, the pod is stored NOTREADY with what it still holds, and the next stop or remove gives that
 * back (every step is idempotent).
 */
final class SandboxStopper {
    private final SandboxStore store;
    private final SandboxDirs dirs;
    private final Supplier<ContainersInSandbox> containers;
    private final NamespacePinner pinner;
    private final PodNetwork network;
    private final PauseLauncher pause;
    private final PodCgroups cgroups;

    SandboxStopper(
            SandboxStore store,
            SandboxDirs dirs,
            Supplier<ContainersInSandbox> containers,
            NamespacePinner pinner,
            PodNetwork network,
            PauseLauncher pause,
            PodCgroups cgroups) {
        this.store = store;
        this.dirs = dirs;
        this.containers = containers;
        this.pinner = pinner;
        this.network = network;
        this.pause = pause;
        this.cgroups = cgroups;
    }

    /** @return the id of the pod stopped, or empty when there is no such pod */
    Optional<String> stop(String idOrPrefix) {
        Optional<Sandbox> found = store.find(idOrPrefix);
        if (found.isEmpty()) return Optional.empty(); // containerd 2.x: stopping a pod that is gone is OK
        Sandbox s = found.get();
        if (!s.begin(SandboxStatus::canStop, SandboxStatus::beginStop)) {
            return Optional.of(s.id()); // stopped or removed meanwhile
        }
        try {
            containers.get().stopAll(s.id(), 0);
        } catch (RuntimeException | Error e) {
            s.update(SandboxStatus::endStop); // nothing given back yet: the pod is as it was
            throw e;
        }
        Failpoints.hit(Failpoints.POD_STOP_AFTER_CONTAINERS);
        release(s, SandboxStatus::endStop);
        s.updateAndCheckpoint(st -> st.released().endStop());
        return Optional.of(s.id());
    }

    void remove(String idOrPrefix) {
        Optional<Sandbox> found = store.find(idOrPrefix);
        if (found.isEmpty()) return;
        Sandbox s = found.get();
        if (!s.begin(SandboxStatus::canRemove, SandboxStatus::beginRemove)) return; // removed meanwhile
        try {
            var inPod = containers.get();
            inPod.stopAll(s.id(), 0);
            inPod.removeAll(s.id());
        } catch (RuntimeException | Error e) {
            s.update(SandboxStatus::endRemove);
            throw e;
        }
        if (s.status().state() != SandboxStatus.State.STOPPED) {
            release(s, SandboxStatus::endRemove);
            s.update(SandboxStatus::released); // not stored: the record goes next
        }
        SandboxMetadata m = s.metadata();
        try {
            dirs.discard(m.id());
            Failpoints.hit(Failpoints.POD_REMOVE_AFTER_DIRS);
            if (m.ownCgroupParent()) {
                // the pause's, in any hierarchy a pause cut short in its join left it in
                cgroups.remove(m.cgroupParent() + "/" + m.id());
                cgroups.remove(m.cgroupParent());
            }
            store.delete(s);
        } catch (IOException e) {
            endWith(s, SandboxStatus::endRemove, e); // stored STOPPED: only the forgetting is left to do
            throw new UncheckedIOException("remove sandbox \"" + m.id() + "\": " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            endWith(s, SandboxStatus::endRemove, e);
            throw e;
        }
        s.update(SandboxStatus::removed);
    }

    /**
     * Gives back what the pod holds on the machine, in the reverse order of its run: the pause
     * (which ends whatever is left in the pod's PID namespace), the CNI attachment, the pinned
     * namespaces, the shm mount. On failure the pod is stored NOTREADY with what it still holds,
     * and its operation ends with {@code end}.
     */
    private void release(Sandbox s, UnaryOperator<SandboxStatus> end) {
        SandboxMetadata m = s.metadata();
        Optional<PauseLauncher.Started> p = s.status().pause();
        boolean pauseGone = p.isEmpty();
        try {
            if (p.isPresent()) {
                pause.stop(m, p.get());
                pauseGone = true;
            }
            if (m.netnsPath().isPresent()) {
                network.tearDown(m.id(), m.netnsPath().get(), m.config());
                Failpoints.hit(Failpoints.POD_STOP_AFTER_CNI_DEL);
            }
            if (m.hasPins()) pinner.release(m.id());
            m.shmPath().ifPresent(dirs::unmountShm);
        } catch (RuntimeException | Error e) {
            boolean gone = pauseGone;
            endWith(s, st -> end.apply(st.releaseFailed(gone)), e);
            throw e;
        }
    }

    /** Commits a failed operation's outcome; a failure to store it is added to {@code cause}. */
    private static void endWith(Sandbox s, UnaryOperator<SandboxStatus> outcome, Throwable cause) {
        try {
            s.updateAndCheckpoint(outcome);
        } catch (RuntimeException e) {
            cause.addSuppressed(e);
        }
    }
}

package io.stevedore.server.sandbox;

import io.stevedore.cni.CniClient;
import io.stevedore.cri.v1.ContainerStatus;
import io.stevedore.cri.v1.PodSandbox;
import io.stevedore.cri.v1.PodSandboxConfig;
import io.stevedore.cri.v1.PodSandboxFilter;
import io.stevedore.cri.v1.PodSandboxStatus;
import io.stevedore.oci.linux.Syscalls;
import io.stevedore.server.container.ContainersInSandbox;
import io.stevedore.server.container.Pods;
import io.stevedore.server.container.spec.PodContext;
import io.stevedore.server.error.CriException;
import io.stevedore.server.events.LifecycleEvents;
import io.stevedore.server.host.Runtimes;
import io.stevedore.server.state.Failpoints;
import io.stevedore.server.state.StateLayout;
import io.stevedore.shim.Pinns;
import java.io.IOException;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Pod sandboxes: pinned namespaces (no pause unless the pod shares one PID namespace), CNI, the
 * pod's {@code resolv.conf}, {@code hosts}, {@code hostname} and {@code /dev/shm}.
 *
 * <p>One class per operation: {@link SandboxRunner} (RunPodSandbox), {@link SandboxStopper}
 * (StopPodSandbox, RemovePodSandbox), {@link SandboxRecovery}; the queries and the {@link Pods}
 * seam the container service uses are here. Each pod's life is the state machine drawn in {@link
 * SandboxStatus}; no lock is held across slow work (see {@link Sandbox}), and the queries never
 * wait for an operation.
 */
public final class SandboxService implements Pods {
    private final SandboxStore store;
    private final SandboxDirs dirs;
    private final SandboxRunner runner;
    private final SandboxStopper stopper;
    private final SandboxRecovery recovery;
    private final PauseLauncher pause;
    private final Runtimes runtimes;
    private final PodCgroups cgroups;
    private volatile ContainersInSandbox containers;

    /**
     * @param layout where the pods' records, files and shm go
     * @param sys mounts the pod's {@code /dev/shm}
     * @param clock the pods' creation times
     */
    public SandboxService(
            StateLayout layout,
            NamespacePinner pinner,
            PodNetwork network,
            PauseLauncher pause,
            PodCgroups cgroups,
            Runtimes runtimes,
            Syscalls sys,
            InstantSource clock)
            throws IOException {
        this.store = new SandboxStore(layout.sandboxRecords());
        this.dirs = new SandboxDirs(layout, sys);
        this.runner = new SandboxRunner(store, dirs, pinner, network, cgroups, runtimes, clock);
        this.stopper = new SandboxStopper(store, dirs, () -> containers, pinner, network, pause, cgroups);
        this.recovery = new SandboxRecovery(store, dirs, pinner, pause, network, cgroups);
        this.pause = pause;
        this.runtimes = runtimes;
        this.cgroups = cgroups;
    }

    /**
     * The service over this machine: namespaces pinned by {@code stevedore-pinns}, networks through
     * CNI, the pause spawned from {@code pauseBinary}, cgroups through cgroupfs at {@code
     * cgroupRoot} (pods' own parents as systemd slices when {@code systemdCgroups}), the system
     * clock.
     */
    public static SandboxService onHost(
            StateLayout layout,
            Pinns pinns,
            CniClient cni,
            Path cniConfDir,
            Path pauseBinary,
            Runtimes runtimes,
            Syscalls sys,
            Path cgroupRoot,
            boolean systemdCgroups)
            throws IOException {
        var cgroups = new CgroupfsPodCgroups(cgroupRoot, systemdCgroups);
        return new SandboxService(
                layout,
                new PinnsNamespacePinner(pinns),
                new CniPodNetwork(cni, cniConfDir),
                new ExecPauseLauncher(pauseBinary, layout.pauseRoot(), cgroups, sys),
                cgroups,
                runtimes,
                sys,
                InstantSource.system());
    }

    /** Wired by the root after both services exist. */
    public void setContainers(ContainersInSandbox containers) {
        this.containers = containers;
    }

    /** Where the pods' transitions are reported (GetContainerEvents); wired before {@link #recover}. */
    public void setEvents(LifecycleEvents events) {
        store.setEvents(events);
    }

    /** Loads the stored pods (see {@link SandboxRecovery}); before the daemon serves. */
    public void recover() throws IOException {
        recovery.recover();
    }

    // ---------------------------------------------------------------- lifecycle

    /** RunPodSandbox: the new pod's id, or the existing one's for a retry with the same config. */
    public String run(PodSandboxConfig cfg, String runtimeHandler) {
        return runner.run(cfg, runtimeHandler);
    }

    /**
     * StopPodSandbox. Idempotent; an unknown id is OK.
     *
     * @return the full id of the pod stopped; empty when there is none
     */
    public Optional<String> stop(String sandboxId) {
        return stopper.stop(sandboxId);
    }

    /** RemovePodSandbox. Idempotent; an unknown id is OK. */
    public void remove(String sandboxId) {
        stopper.remove(sandboxId);
    }

    /**
     * UpdatePodSandboxResources (KEP-1287): records the pod's new overhead and resources, and where
     * stevedore made the pod's cgroup (the kubelet gave no {@code cgroup_parent}) and the pod is
     * READY, sizes that cgroup to their sum ({@link PodResources#limits}). Where the kubelet owns the
     * parent it has resized it itself before calling, so they are only recorded, as containerd
     * does. Waits for an operation on the pod (a stop removes the cgroup this writes). A limit the
     * kernel refuses (memory below what the pod uses) fails the call and records nothing.
     *
     * @throws CriException.NotFound for an unknown pod, or one removed meanwhile
     */
    public void updateResources(String sandboxId, PodResources to) {
        Sandbox s = store.get(sandboxId);
        if (!s.begin(SandboxStatus::canResize, SandboxStatus::beginResize)) {
            throw new CriException.NotFound("pod sandbox \"" + sandboxId + "\" not found");
        }
        SandboxMetadata m = s.metadata();
        try {
            if (m.ownCgroupParent() && s.status().state() == SandboxStatus.State.READY) {
                cgroups.set(m.cgroupParent(), to.limits());
            }
        } catch (IOException | RuntimeException e) {
            s.update(SandboxStatus::resizeFailed);
            throw new IllegalStateException("update resources of pod sandbox \"" + m.id() + "\": " + e.getMessage(), e);
        }
        s.updateAndCheckpoint(st -> st.resized(to));
    }

    // ---------------------------------------------------------------- queries: no lock, no wait

    public PodSandboxStatus status(String sandboxId) {
        Sandbox s = store.get(sandboxId);
        return SandboxProtos.status(s.metadata(), s.status());
    }

    public Map<String, String> verboseInfo(String sandboxId) {
        Sandbox s = store.get(sandboxId);
        return SandboxProtos.verboseInfo(s.metadata(), s.status());
    }

    public List<ContainerStatus> containerStatuses(String sandboxId) {
        return containers.statuses(store.get(sandboxId).id());
    }

    public List<PodSandbox> list(PodSandboxFilter f) {
        return store.all().stream()
                .filter(s -> f.getId().isEmpty() || s.id().startsWith(f.getId()))
                .map(s -> SandboxProtos.sandbox(s.metadata(), s.status()))
                .filter(p -> !f.hasState() || p.getState() == f.getState().getState())
                .filter(p -> p.getLabelsMap()
                        .entrySet()
                        .containsAll(f.getLabelSelectorMap().entrySet()))
                .sorted(Comparator.comparingLong(PodSandbox::getCreatedAt))
                .toList();
    }

    /** Records of every pod (for stats). */
    public List<SandboxRecord> records() {
        return store.all().stream().map(Sandbox::record).toList();
    }

    public SandboxRecord record(String sandboxId) {
        return store.get(sandboxId).record();
    }

    // ---------------------------------------------------------------- Pods (for the container service)

    @Override
    public Pod ready(String sandboxId, boolean sharedPid) {
        Sandbox s = store.get(sandboxId);
        SandboxStatus st = s.status();
        if (!st.isReady()) throw notReady(s);
        if (sharedPid && s.metadata().sharesPid() && st.pausePid() == 0) {
            st = startPause(s); // the pod's shared PID namespace exists from the first container that joins it
        }
        SandboxMetadata m = s.metadata();
        Path state = dirs.state(m.id());
        var ctx = new PodContext(
                m.id(),
                m.config(),
                m.netnsPath(),
                m.ipcnsPath(),
                m.utsnsPath(),
                st.pause().map(PauseLauncher.Started::pid),
                state.resolve("hosts"),
                state.resolve("resolv.conf"),
                state.resolve("hostname"),
                m.shmPath(),
                m.cgroupParent());
        return new Pod(ctx, m.runtimeHandler());
    }

    @Override
    public String runtimeHandler(String sandboxId) {
        return store.exact(sandboxId).map(s -> s.metadata().runtimeHandler()).orElse(runtimes.name(""));
    }

    /**
     * Starts the pod's pause, unless another container's start did so meanwhile. Concurrent callers
     * wait for the one that starts it; a stop waits for it too, so it never misses the pause.
     */
    private SandboxStatus startPause(Sandbox s) {
        if (!s.begin(SandboxStatus::canStartPause, SandboxStatus::beginPauseStart)) {
            SandboxStatus now = s.status();
            if (!now.isReady()) throw notReady(s);
            return now;
        }
        PauseLauncher.Started started;
        try {
            started = pause.start(s.metadata());
        } catch (RuntimeException | Error e) {
            s.update(SandboxStatus::pauseStartFailed); // the launcher left nothing running
            throw e;
        }
        Failpoints.hit(Failpoints.POD_AFTER_PAUSE);
        return s.updateAndCheckpoint(st -> st.pauseStarted(started));
    }

    private static CriException notReady(Sandbox s) {
        return new CriException.FailedPrecondition("sandbox \"" + s.id() + "\" is not ready");
    }
}

package io.stevedore.server.sandbox;

import com.google.protobuf.InvalidProtocolBufferException;
import io.stevedore.cni.CniClient;
import io.stevedore.cri.v1.NamespaceMode;
import io.stevedore.cri.v1.PodSandbox;
import io.stevedore.cri.v1.PodSandboxConfig;
import io.stevedore.cri.v1.PodSandboxFilter;
import io.stevedore.cri.v1.PodSandboxState;
import io.stevedore.cri.v1.PodSandboxStatus;
import io.stevedore.oci.linux.Syscalls;
import io.stevedore.server.container.ContainersInSandbox;
import io.stevedore.server.container.Pods;
import io.stevedore.server.container.spec.PodContext;
import io.stevedore.server.error.CriException;
import io.stevedore.server.host.Runtimes;
import io.stevedore.server.sandbox.files.PodFiles;
import io.stevedore.server.state.Dirs;
import io.stevedore.server.state.NameIndex;
import io.stevedore.server.state.RecordStore;
import io.stevedore.server.state.Trash;
import io.stevedore.shim.PinnedNamespaces;
import io.stevedore.shim.Pinns;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pod sandboxes: pinned namespaces (no pause container unless the pod shares one PID namespace),
 * CNI, the pod's {@code resolv.conf}, {@code hosts}, {@code hostname} and {@code /dev/shm}.
 *
 * <p>RunPodSandbox acquires each resource in turn and pushes its undo; a failure runs the undos in
 * reverse, so a failed run leaves nothing behind. StopPodSandbox releases what the pod holds on the
 * machine (containers, pause, network, namespaces, shm) but keeps its record (NOTREADY);
 * RemovePodSandbox forgets it. Both are idempotent.
 */
public final class SandboxService implements Pods {
    private static final Logger log = LoggerFactory.getLogger(SandboxService.class);
    private static final String SHM_SIZE = "size=65536k";

    private final Path stateDir; // <root>/sandboxes/<id>: resolv.conf, hosts, hostname
    private final Path runDir; // <runRoot>/sandboxes/<id>: shm
    private final RecordStore<SandboxRecord> store;
    private final Trash stateTrash;
    private final Trash runTrash;
    private final NameIndex names = new NameIndex();
    private final Map<String, Sandbox> sandboxes = new ConcurrentHashMap<>();
    private final NamespacePinner pinner;
    private final PodNetwork network;
    private final PauseLauncher pause;
    private final PodCgroups cgroups;
    private final Runtimes runtimes;
    private final Syscalls sys;
    private final InstantSource clock;
    private volatile ContainersInSandbox containers;

    private static final class Sandbox {
        final ReentrantLock lock = new ReentrantLock();
        volatile SandboxRecord record;

        Sandbox(SandboxRecord r) {
            this.record = r;
        }
    }

    /**
     * @param stateDir {@code <root>/sandboxes}; records go beside it in {@code sandboxes.meta}
     * @param runDir {@code <runRoot>/sandboxes}
     * @param sys mounts the pod's {@code /dev/shm}
     * @param clock the pods' creation times
     */
    public SandboxService(
            Path stateDir,
            Path runDir,
            NamespacePinner pinner,
            PodNetwork network,
            PauseLauncher pause,
            PodCgroups cgroups,
            Runtimes runtimes,
            Syscalls sys,
            InstantSource clock)
            throws IOException {
        this.stateDir = Files.createDirectories(stateDir);
        this.runDir = Files.createDirectories(runDir);
        this.store = new RecordStore<>(stateDir.resolveSibling("sandboxes.meta"), SandboxRecord.class);
        this.stateTrash = new Trash(stateDir.resolveSibling("sandboxes.trash"));
        this.runTrash = new Trash(runDir.resolveSibling("sandboxes.trash"));
        this.pinner = pinner;
        this.network = network;
        this.pause = pause;
        this.cgroups = cgroups;
        this.runtimes = runtimes;
        this.sys = sys;
        this.clock = clock;
    }

    /**
     * The service over this machine: namespaces pinned by {@code stevedore-pinns}, networks through
     * CNI, the pause spawned from {@code pauseBinary}, cgroups through cgroupfs at {@code
     * cgroupRoot}, the system clock.
     */
    public static SandboxService onHost(
            Path stateDir,
            Path runDir,
            Pinns pinns,
            CniClient cni,
            Path cniConfDir,
            Path pauseBinary,
            Runtimes runtimes,
            Syscalls sys,
            Path cgroupRoot)
            throws IOException {
        var cgroups = new CgroupfsPodCgroups(cgroupRoot);
        return new SandboxService(
                stateDir,
                runDir,
                new PinnsNamespacePinner(pinns),
                new CniPodNetwork(cni, cniConfDir),
                new ExecPauseLauncher(pauseBinary, runDir.resolveSibling("pause-root"), cgroups, sys),
                cgroups,
                runtimes,
                sys,
                InstantSource.system());
    }

    /** Wired by the root after both services exist. */
    public void setContainers(ContainersInSandbox containers) {
        this.containers = containers;
    }

    // ---------------------------------------------------------------- recovery

    /** Loads the stored pods; one whose namespaces or pause vanished is reported NOTREADY. */
    public void recover() throws IOException {
        for (SandboxRecord r : store.loadAll(
                (p, e) -> log.atWarn().addKeyValue("file", p).setCause(e).log("skipping unreadable sandbox record"))) {
            sandboxes.put(r.id(), new Sandbox(r));
            names.reserve(r.name(), r.id());
        }
        for (Sandbox s : sandboxes.values()) {
            SandboxRecord r = s.record;
            if (!r.ready()) continue;
            boolean ok = true;
            for (String pin : List.of(r.netns(), r.ipcns(), r.utsns())) {
                if (!pin.isEmpty() && !pinner.isPinned(Path.of(pin))) ok = false;
            }
            if (r.pausePid() > 0 && !pause.isRunning(new PauseLauncher.Started(r.pausePid(), r.pauseStartTime()))) {
                ok = false;
            }
            if (!ok) {
                log.atWarn()
                        .addKeyValue("id", r.id())
                        .log("sandbox lost its namespaces while the daemon was down: NOTREADY");
                put(s, r.notReady());
            }
        }
        try (Stream<Path> st = Files.list(runDir)) {
            for (Path p : st.toList()) {
                if (!sandboxes.containsKey(p.getFileName().toString())) {
                    unmountQuietly(p.resolve("shm"));
                    Dirs.deleteTree(p);
                }
            }
        }
    }

    // ---------------------------------------------------------------- run

    public String run(PodSandboxConfig cfg, String runtimeHandler) {
        String handler = runtimes.name(runtimeHandler);
        if (!runtimes.has(handler)) {
            throw new CriException.InvalidArgument(
                    "run pod sandbox: no runtime for \"" + runtimeHandler + "\" is configured");
        }
        var md = cfg.getMetadata();
        String name = String.join("_", md.getName(), md.getNamespace(), md.getUid(), Integer.toString(md.getAttempt()));
        String id = Dirs.newId();
        Optional<String> holder = names.reserve(name, id);
        if (holder.isPresent()) {
            Sandbox existing = sandboxes.get(holder.get());
            if (existing != null
                    && existing.record.ready()
                    && Arrays.equals(existing.record.config(), cfg.toByteArray())) {
                return existing.record.id(); // a retried run whose answer was lost
            }
            throw new CriException.FailedPrecondition("run pod sandbox \"" + md.getName() + "\": name \"" + name
                    + "\" is reserved for \"" + holder.get() + "\"");
        }
        Deque<Undo> undo = new ArrayDeque<>();
        undo.push(() -> names.release(name, id));
        try {
            var ns = cfg.getLinux().getSecurityContext().getNamespaceOptions();
            boolean hostNet = ns.getNetwork() == NamespaceMode.NODE;
            boolean hostIpc = ns.getIpc() == NamespaceMode.NODE;
            Path state = Files.createDirectories(stateDir.resolve(id));
            undo.push(() -> Dirs.deleteTree(state));
            Path run = Files.createDirectories(runDir.resolve(id));
            undo.push(() -> Dirs.deleteTree(run));

            var kinds = EnumSet.noneOf(Pinns.Kind.class);
            if (!hostNet) {
                kinds.add(Pinns.Kind.NET);
                kinds.add(Pinns.Kind.UTS);
            }
            if (!hostIpc) kinds.add(Pinns.Kind.IPC);
            Map<String, String> sysctls = new LinkedHashMap<>();
            cfg.getLinux().getSysctlsMap().forEach((k, v) -> {
                boolean net = k.startsWith("net.");
                boolean ipc = k.startsWith("kernel.shm")
                        || k.startsWith("kernel.msg")
                        || k.startsWith("kernel.sem")
                        || k.startsWith("fs.mqueue.");
                if ((net && !hostNet) || (ipc && !hostIpc)) {
                    sysctls.put(k, v);
                } else if (!net && !ipc) {
                    throw new CriException.InvalidArgument(
                            "sysctl \"" + k + "\" is not namespaced: it would change the host");
                }
            });
            PinnedNamespaces pinned = new PinnedNamespaces(Optional.empty(), Optional.empty(), Optional.empty());
            if (!kinds.isEmpty()) {
                Optional<String> hostname =
                        kinds.contains(Pinns.Kind.UTS) && !cfg.getHostname().isEmpty()
                                ? Optional.of(cfg.getHostname())
                                : Optional.empty();
                pinned = pinner.pin(id, kinds, hostname, sysctls);
                undo.push(() -> pinner.release(id));
            }
            String shm = "";
            if (!hostIpc) {
                Path shmDir = Files.createDirectories(run.resolve("shm"));
                sys.mount(
                        "shm",
                        shmDir,
                        "tmpfs",
                        Syscalls.MS_NOSUID | Syscalls.MS_NODEV | Syscalls.MS_NOEXEC,
                        "mode=1777," + SHM_SIZE);
                undo.push(() -> unmountQuietly(shmDir));
                shm = shmDir.toString();
            }
            PodFiles.write(
                    state.resolve("resolv.conf"), PodFiles.resolvConf(cfg.getDnsConfig(), Path.of("/etc/resolv.conf")));
            PodFiles.write(state.resolve("hosts"), PodFiles.hosts(hostNet, Path.of("/etc/hosts")));
            PodFiles.write(state.resolve("hostname"), PodFiles.hostname(cfg.getHostname(), hostNet));

            String parent = cfg.getLinux().getCgroupParent();
            boolean ownParent = parent.isEmpty();
            if (ownParent) parent = "/stevedore/" + id;
            if (ownParent) undo.push(() -> cgroups.remove("/stevedore/" + id));

            List<String> ips = List.of();
            if (pinned.net().isPresent()) {
                Path netns = pinned.net().get();
                undo.push(() -> network.tearDown(id, netns, cfg));
                ips = network.setUp(id, netns, cfg);
            }
            var rec = new SandboxRecord(
                    id,
                    name,
                    cfg.toByteArray(),
                    handler,
                    nanos(clock.instant()),
                    true,
                    pinned.net().map(Path::toString).orElse(""),
                    pinned.ipc().map(Path::toString).orElse(""),
                    pinned.uts().map(Path::toString).orElse(""),
                    shm,
                    0,
                    0,
                    ips.isEmpty() ? "" : ips.getFirst(),
                    ips.size() > 1 ? ips.subList(1, ips.size()) : List.of(),
                    parent,
                    ownParent);
            store.put(id, rec);
            sandboxes.put(id, new Sandbox(rec));
            return id;
        } catch (Exception | StackOverflowError | OutOfMemoryError e) {
            // Errors too: a half-made pod (netns, cgroup, CNI reservation) must not outlive a blown stack.
            while (!undo.isEmpty()) {
                try {
                    undo.pop().run();
                } catch (Exception u) {
                    e.addSuppressed(u);
                }
            }
            if (e instanceof Error err) throw err;
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
                throw new CriException.Unavailable("run pod sandbox \"" + md.getName() + "\": interrupted", e);
            }
            if (e instanceof RuntimeException re) throw re;
            throw new IllegalStateException("run pod sandbox \"" + md.getName() + "\": " + e.getMessage(), e);
        }
    }

    @FunctionalInterface
    private interface Undo {
        void run() throws Exception;
    }

    // ---------------------------------------------------------------- Pods (for the container service)

    @Override
    public Pod ready(String sandboxId, boolean sharedPid) {
        Sandbox s = get(sandboxId);
        SandboxRecord r = s.record;
        if (!r.ready()) {
            throw new CriException.FailedPrecondition("sandbox \"" + r.id() + "\" is not ready");
        }
        PodSandboxConfig cfg = config(r);
        var pidMode = cfg.getLinux().getSecurityContext().getNamespaceOptions().getPid();
        if (sharedPid && pidMode == NamespaceMode.POD && r.pausePid() == 0) {
            // The pod's shared PID namespace exists from the first container that joins it.
            s.lock.lock();
            try {
                r = s.record;
                if (!r.ready()) throw new CriException.FailedPrecondition("sandbox \"" + r.id() + "\" is not ready");
                if (r.pausePid() == 0) {
                    var st = pause.start(r);
                    r = r.withPause(st.pid(), st.startTime());
                    put(s, r);
                }
            } finally {
                s.lock.unlock();
            }
        }
        Path state = stateDir.resolve(r.id());
        var ctx = new PodContext(
                r.id(),
                cfg,
                opt(r.netns()),
                opt(r.ipcns()),
                opt(r.utsns()),
                r.pausePid() > 0 ? Optional.of(r.pausePid()) : Optional.empty(),
                state.resolve("hosts"),
                state.resolve("resolv.conf"),
                state.resolve("hostname"),
                opt(r.shm()),
                r.cgroupParent());
        return new Pod(ctx, r.runtimeHandler());
    }

    @Override
    public String runtimeHandler(String sandboxId) {
        Sandbox s = sandboxes.get(sandboxId);
        return s == null ? runtimes.name("") : s.record.runtimeHandler();
    }

    // ---------------------------------------------------------------- stop and remove

    public void stop(String sandboxId) {
        Sandbox s = get(sandboxId);
        containers.stopAll(s.record.id(), 0);
        s.lock.lock();
        try {
            stopLocked(s);
        } finally {
            s.lock.unlock();
        }
    }

    private void stopLocked(Sandbox s) {
        SandboxRecord r = s.record;
        String id = r.id();
        if (r.pausePid() > 0) { // a pause that failed to start was cleaned up by PauseLauncher.start
            pause.stop(r, new PauseLauncher.Started(r.pausePid(), r.pauseStartTime()));
        }
        if (!r.netns().isEmpty()) {
            network.tearDown(id, Path.of(r.netns()), config(r));
        }
        pinner.release(id);
        if (!r.shm().isEmpty()) unmountQuietly(Path.of(r.shm()));
        if (r.ready() || r.pausePid() > 0) put(s, r.notReady());
    }

    public void remove(String sandboxId) {
        Sandbox s = sandboxes.get(sandboxId);
        if (s == null) {
            s = find(sandboxId).orElse(null);
            if (s == null) return;
        }
        String id = s.record.id();
        containers.stopAll(id, 0);
        containers.removeAll(id);
        s.lock.lock();
        try {
            if (!sandboxes.containsKey(id)) return;
            stopLocked(s);
            SandboxRecord r = s.record;
            runTrash.discard(runDir.resolve(id));
            stateTrash.discard(stateDir.resolve(id));
            if (r.ownCgroupParent()) cgroups.remove(r.cgroupParent());
            store.remove(id);
            sandboxes.remove(id);
            names.release(r.name(), id);
        } catch (IOException e) {
            throw new UncheckedIOException("remove sandbox \"" + id + "\": " + e.getMessage(), e);
        } finally {
            s.lock.unlock();
        }
    }

    // ---------------------------------------------------------------- status and list

    public PodSandboxStatus status(String sandboxId) {
        return SandboxProtos.status(get(sandboxId).record);
    }

    public Map<String, String> verboseInfo(String sandboxId) {
        return SandboxProtos.verboseInfo(get(sandboxId).record);
    }

    public List<io.stevedore.cri.v1.ContainerStatus> containerStatuses(String sandboxId) {
        return containers.statuses(get(sandboxId).record.id());
    }

    public List<PodSandbox> list(PodSandboxFilter f) {
        return sandboxes.values().stream()
                .map(s -> s.record)
                .filter(r -> f.getId().isEmpty() || r.id().startsWith(f.getId()))
                .filter(r -> !f.hasState() || (f.getState().getState() == PodSandboxState.SANDBOX_READY) == r.ready())
                .map(SandboxProtos::sandbox)
                .filter(p -> p.getLabelsMap()
                        .entrySet()
                        .containsAll(f.getLabelSelectorMap().entrySet()))
                .sorted(Comparator.comparingLong(PodSandbox::getCreatedAt))
                .toList();
    }

    /** Records of every pod (for stats). */
    public List<SandboxRecord> records() {
        return sandboxes.values().stream().map(s -> s.record).toList();
    }

    public SandboxRecord record(String sandboxId) {
        return get(sandboxId).record;
    }

    // ---------------------------------------------------------------- helpers

    private Sandbox get(String id) {
        if (id == null || id.isEmpty()) throw new CriException.InvalidArgument("pod sandbox id is empty");
        Sandbox s = sandboxes.get(id);
        if (s != null) return s;
        return find(id).orElseThrow(() -> new CriException.NotFound("pod sandbox \"" + id + "\" not found"));
    }

    private Optional<Sandbox> find(String prefix) {
        var m = sandboxes.values().stream()
                .filter(s -> s.record.id().startsWith(prefix))
                .toList();
        if (m.size() > 1)
            throw new CriException.InvalidArgument("pod sandbox id prefix \"" + prefix + "\" is ambiguous");
        return m.stream().findFirst();
    }

    private void put(Sandbox s, SandboxRecord r) {
        store.put(r.id(), r);
        s.record = r;
    }

    static PodSandboxConfig config(SandboxRecord r) {
        try {
            return PodSandboxConfig.parseFrom(r.config());
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("sandbox \"" + r.id() + "\": stored config unreadable", e);
        }
    }

    private void unmountQuietly(Path p) {
        try {
            sys.umount2(p, Syscalls.MNT_DETACH);
        } catch (IOException e) {
            // not mounted
        }
    }

    private static long nanos(Instant t) {
        return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }

    private static Optional<Path> opt(String s) {
        return s == null || s.isEmpty() ? Optional.empty() : Optional.of(Path.of(s));
    }
}

package io.stevedore.server.sandbox;

import io.stevedore.cri.v1.NamespaceMode;
import io.stevedore.cri.v1.PodSandboxConfig;
import io.stevedore.server.error.CriException;
import io.stevedore.server.host.Runtimes;
import io.stevedore.server.sandbox.files.PodFiles;
import io.stevedore.server.state.Dirs;
import io.stevedore.server.state.Failpoints;
import io.stevedore.server.state.Undo;
import io.stevedore.shim.PinnedNamespaces;
import io.stevedore.shim.Pinns;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * RunPodSandbox. The pod is acquired step by step, each step pushing its undo: the name, the
 * state and run directories, the pinned namespaces (net, IPC, UTS, with the hostname and the
 * namespaced sysctls), {@code /dev/shm}, the pod's {@code resolv.conf}, {@code hosts} and {@code
 * hostname}, its own cgroup parent when the kubelet gave none, and the CNI attachment. A failure
 * gives everything back, newest first, so a failed run leaves nothing behind.
 *
 * <p>No pod lock is involved: until it is stored, the pod is known only by its reserved name, so
 * nothing else can reach it; PodSandboxStatus and ListPodSandbox see it once it is READY.
 */
final class SandboxRunner {
    private static final PinnedNamespaces NONE =
            new PinnedNamespaces(Optional.empty(), Optional.empty(), Optional.empty());

    private final SandboxStore store;
    private final SandboxDirs dirs;
    private final NamespacePinner pinner;
    private final PodNetwork network;
    private final PodCgroups cgroups;
    private final Runtimes runtimes;
    private final InstantSource clock;

    SandboxRunner(
            SandboxStore store,
            SandboxDirs dirs,
            NamespacePinner pinner,
            PodNetwork network,
            PodCgroups cgroups,
            Runtimes runtimes,
            InstantSource clock) {
        this.store = store;
        this.dirs = dirs;
        this.pinner = pinner;
        this.network = network;
        this.cgroups = cgroups;
        this.runtimes = runtimes;
        this.clock = clock;
    }

    String run(PodSandboxConfig cfg, String runtimeHandler) {
        String handler = runtimes.name(runtimeHandler);
        if (!runtimes.has(handler)) {
            throw new CriException.InvalidArgument(
                    "run pod sandbox: no runtime for \"" + runtimeHandler + "\" is configured");
        }
        var md = cfg.getMetadata();
        String name = String.join("_", md.getName(), md.getNamespace(), md.getUid(), Integer.toString(md.getAttempt()));
        String id = Dirs.newId();
        Optional<String> holder = store.reserve(name, id);
        if (holder.isPresent()) {
            return retried(cfg, name, holder.get());
        }
        try (var undo = new Undo()) {
            undo.push(() -> store.release(name, id));
            SandboxMetadata pod = acquire(id, name, handler, cfg, undo);
            store.add(pod, SandboxStatus.ready());
            undo.commit();
            Failpoints.hit(Failpoints.POD_AFTER_RECORD);
            return id;
        } catch (IOException e) {
            throw new UncheckedIOException("run pod sandbox \"" + md.getName() + "\": " + e.getMessage(), e);
        } catch (UncheckedIOException e) { // a pod file or record: say which pod it was for
            throw new UncheckedIOException("run pod sandbox \"" + md.getName() + "\": " + e.getMessage(), e.getCause());
        }
    }

    /**
     * The kubelet runs a pod again with the same config when the answer to its first run was lost
     * (a timeout): that is the same pod, not a conflict. A run still under way holds the name too,
     * and is a conflict until it ends, as containerd's name reservation is.
     */
    private String retried(PodSandboxConfig cfg, String name, String holder) {
        Optional<Sandbox> existing = store.exact(holder);
        if (existing.isPresent()
                && existing.get().status().isReady()
                && existing.get().metadata().config().equals(cfg)) {
            return holder;
        }
        throw new CriException.FailedPrecondition("run pod sandbox \""
                + cfg.getMetadata().getName() + "\": name \"" + name + "\" is reserved for \"" + holder + "\"");
    }

    private SandboxMetadata acquire(String id, String name, String handler, PodSandboxConfig cfg, Undo undo)
            throws IOException {
        var ns = cfg.getLinux().getSecurityContext().getNamespaceOptions();
        boolean hostNet = ns.getNetwork() == NamespaceMode.NODE;
        boolean hostIpc = ns.getIpc() == NamespaceMode.NODE;
        Map<String, String> sysctls = namespacedSysctls(cfg, hostNet, hostIpc);

        Path state = dirs.createState(id);
        undo.push(() -> Dirs.deleteTree(state));
        dirs.writeRunConfig(id, cfg); // first: a crash from here on is given back by recovery
        Path run = dirs.createRun(id);
        undo.push(() -> Dirs.deleteTree(run));
        Failpoints.hit(Failpoints.POD_AFTER_DIRS);

        PinnedNamespaces pinned = pin(id, cfg, hostNet, hostIpc, sysctls, undo);
        Failpoints.hit(Failpoints.POD_AFTER_PIN);
        Optional<Path> shm = Optional.empty();
        if (!hostIpc) {
            Path mounted = dirs.mountShm(id);
            undo.push(() -> dirs.unmountShm(mounted));
            shm = Optional.of(mounted);
        }
        Failpoints.hit(Failpoints.POD_AFTER_SHM);
        PodFiles.write(
                state.resolve("resolv.conf"), PodFiles.resolvConf(cfg.getDnsConfig(), Path.of("/etc/resolv.conf")));
        PodFiles.write(state.resolve("hosts"), PodFiles.hosts(hostNet, Path.of("/etc/hosts")));
        PodFiles.write(state.resolve("hostname"), PodFiles.hostname(cfg.getHostname(), hostNet));
        Failpoints.hit(Failpoints.POD_AFTER_FILES);

        String parent = cfg.getLinux().getCgroupParent();
        boolean ownParent = parent.isEmpty();
        if (ownParent) {
            String own = cgroups.ownParent(id); // made by the first container or pause that joins it
            undo.push(() -> cgroups.remove(own));
            parent = own;
        }
        List<String> ips = List.of();
        if (pinned.net().isPresent()) {
            Path netns = pinned.net().get();
            undo.push(() -> network.tearDown(id, netns, cfg)); // CNI: a failed ADD is followed by a DEL
            ips = network.setUp(id, netns, cfg);
        }
        Failpoints.hit(Failpoints.POD_AFTER_CNI_ADD);
        return new SandboxMetadata(
                id,
                name,
                cfg,
                handler,
                nanos(clock.instant()),
                pinned.net().map(Path::toString).orElse(""),
                pinned.ipc().map(Path::toString).orElse(""),
                pinned.uts().map(Path::toString).orElse(""),
                shm.map(Path::toString).orElse(""),
                ips.isEmpty() ? "" : ips.getFirst(),
                ips.size() > 1 ? ips.subList(1, ips.size()) : List.of(),
                parent,
                ownParent);
    }

    /** A pod on the host's network shares its UTS namespace too; on the host's IPC, its shm. */
    private PinnedNamespaces pin(
            String id, PodSandboxConfig cfg, boolean hostNet, boolean hostIpc, Map<String, String> sysctls, Undo undo) {
        var kinds = EnumSet.noneOf(Pinns.Kind.class);
        if (!hostNet) {
            kinds.add(Pinns.Kind.NET);
            kinds.add(Pinns.Kind.UTS);
        }
        if (!hostIpc) kinds.add(Pinns.Kind.IPC);
        if (kinds.isEmpty()) return NONE;
        Optional<String> hostname =
                kinds.contains(Pinns.Kind.UTS) && !cfg.getHostname().isEmpty()
                        ? Optional.of(cfg.getHostname())
                        : Optional.empty();
        PinnedNamespaces pinned = pinner.pin(id, kinds, hostname, sysctls);
        undo.push(() -> pinner.release(id));
        return pinned;
    }

    /**
     * The pod's sysctls for the namespaces it has of its own. One that is not namespaced would
     * change the host and is refused; a namespaced one for a namespace the pod shares with the host
     * is left out.
     */
    private static Map<String, String> namespacedSysctls(PodSandboxConfig cfg, boolean hostNet, boolean hostIpc) {
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
        return sysctls;
    }

    private static long nanos(Instant t) {
        return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }
}

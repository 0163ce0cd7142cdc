package io.stevedore.server.container;

import io.stevedore.cri.v1.ContainerConfig;
import io.stevedore.cri.v1.NamespaceMode;
import io.stevedore.cri.v1.PodSandboxMetadata;
import io.stevedore.oci.spec.Spec;
import io.stevedore.oci.spec.SpecJson;
import io.stevedore.server.container.spec.HostInputs;
import io.stevedore.server.error.CriException;
import io.stevedore.server.host.Procs;
import io.stevedore.server.image.store.ImageRecord;
import io.stevedore.server.state.Dirs;
import io.stevedore.server.state.Failpoints;
import io.stevedore.server.state.Undo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * CreateContainer: reserves the name, mounts the rootfs (the image's layers under a writable layer
 * of its own), writes the bundle's {@code config.json}, and stores the container as CREATED. Each
 * acquisition registers its undo; anything thrown half-way (an {@link Error} too: issue 11) undoes
 * it all, so a failed create leaves nothing an RPC cannot see.
 */
final class ContainerCreator {
    private final ContainerEnv env;
    private final ContainerStore store;

    ContainerCreator(ContainerEnv env, ContainerStore store) {
        this.env = env;
        this.store = store;
    }

    String create(String sandboxId, ContainerConfig cfg) {
        checkLogPath(cfg.getLogPath());
        boolean sharedPid =
                cfg.getLinux().getSecurityContext().getNamespaceOptions().getPid() == NamespaceMode.POD;
        var md = cfg.getMetadata();
        Pods.Pod pod;
        try {
            pod = env.pods().ready(sandboxId, sharedPid);
        } catch (UncheckedIOException e) { // the record of the pod's pause, started for this container
            throw new UncheckedIOException(
                    "create container \"" + md.getName() + "\": " + e.getMessage(), e.getCause());
        }
        PodSandboxMetadata pm = pod.context().config().getMetadata();
        String name = String.join(
                "_", md.getName(), pm.getName(), pm.getNamespace(), pm.getUid(), Integer.toString(md.getAttempt()));
        String id = Dirs.newId();
        Optional<String> holder = store.reserve(name, id);
        if (holder.isPresent()) {
            ContainerCell existing = store.exact(holder.get());
            if (existing != null
                    && existing.record().sandboxId().equals(sandboxId)
                    && Arrays.equals(existing.record().config(), cfg.toByteArray())) {
                // A retry of a create whose answer the client never got (kubelet's timeout): same answer.
                return existing.id();
            }
            throw new CriException.FailedPrecondition("create container \"" + md.getName() + "\": name \"" + name
                    + "\" is reserved for \"" + holder.get() + "\"");
        }
        String action = "create container \"" + CriException.shown(md.getName()) + "\"";
        String imageName = cfg.getImage().getImage();
        Path bundle = env.bundle(id);
        Path layer = env.layer(id);
        try (var undo = new Undo()) {
            undo.push(() -> store.release(name, id));
            ImageRecord image = env.images()
                    .find(imageName)
                    .orElseThrow(() -> new CriException.NotFound("create container \"" + md.getName() + "\": image \""
                            + CriException.shown(imageName) + "\" not found"));
            undo.push(() -> Dirs.deleteTree(bundle));
            undo.push(() -> Dirs.deleteTree(layer));
            Files.createDirectories(bundle);
            Path rootPath = bundle.resolve("rootfs");
            env.rootfs().mount(env.images().layers(image), layer.resolve("upper"), layer.resolve("work"), rootPath);
            undo.push(() -> env.rootfs().unmount(rootPath));
            Failpoints.hit(Failpoints.CTR_CREATE_AFTER_MOUNT);
            var volumes = ImageVolumes.mount(env, cfg, bundle, undo, action);
            var host = new HostInputs(targetPid(sandboxId, cfg, action), volumes.sources());
            Spec spec =
                    env.specs().generate(id, cfg, pod.context(), env.images().config(image), rootPath, host);
            SpecJson.write(spec, bundle.resolve("config.json"));
            String logPath = "";
            String logDir = pod.context().config().getLogDirectory();
            if (!logDir.isEmpty() && !cfg.getLogPath().isEmpty()) {
                logPath = logPathBeneath(Path.of(logDir), cfg.getLogPath()).toString();
            }
            String imageRef = image.repoDigests().isEmpty()
                    ? image.id()
                    : image.repoDigests().getFirst();
            String cgroupsPath = spec.linux() == null || spec.linux().cgroupsPath() == null
                    ? ""
                    : spec.linux().cgroupsPath();
            var record = new ContainerRecord(
                    new ContainerMetadata(
                            id,
                            sandboxId,
                            name,
                            cfg.toByteArray(),
                            image.id(),
                            imageRef,
                            imageName,
                            image.chainIds(),
                            logPath,
                            cgroupsPath,
                            env.now(),
                            volumes.layers()),
                    ContainerRecord.Status.created());
            store.persist(record);
            store.addCreated(record);
            undo.commit();
            Failpoints.hit(Failpoints.CTR_CREATE_AFTER_RECORD);
            return id;
        } catch (IOException | RuntimeException | StackOverflowError | OutOfMemoryError e) {
            if (e instanceof Error err) throw err;
            if (e instanceof CriException ce) throw ce;
            throw new IllegalStateException("create container \"" + md.getName() + "\": " + e.getMessage(), e);
        }
    }

    /**
     * For PID namespace mode TARGET ({@code kubectl debug --target}): the init pid of the target
     * container, whose PID namespace the new one joins. The target must be a running container of
     * the same pod (containerd's {@code validateTargetContainer}); its namespace is named by pid, so
     * it must be running now, not merely recorded so.
     */
    private OptionalInt targetPid(String sandboxId, ContainerConfig cfg, String action) {
        var ns = cfg.getLinux().getSecurityContext().getNamespaceOptions();
        if (ns.getPid() != NamespaceMode.TARGET) return OptionalInt.empty();
        String targetId = ns.getTargetId();
        if (targetId.isEmpty()) {
            throw new CriException.InvalidArgument(
                    action + ": namespace_options.target_id is required with PID namespace mode TARGET");
        }
        ContainerCell target = store.find(targetId)
                .orElseThrow(() -> new CriException.NotFound(
                        "%s: target container \"%s\" not found".formatted(action, CriException.shown(targetId))));
        ContainerRecord r = target.record();
        if (!r.sandboxId().equals(sandboxId)) {
            throw new CriException.InvalidArgument("%s: target container \"%s\" belongs to pod \"%s\", not \"%s\""
                    .formatted(action, r.id(), r.sandboxId(), sandboxId));
        }
        var st = r.status();
        if (!st.isRunning() || !Procs.alive(st.pid(), st.pidStartTime())) {
            throw new CriException.FailedPrecondition("%s: target container \"%s\" is not running (%s)"
                    .formatted(action, r.id(), ContainerRecord.stateName(st.state())));
        }
        return OptionalInt.of(st.pid());
    }

    /**
     * The container's log file, {@code logPath} beneath the pod's log directory, its directories
     * made: no component below {@code logDir} may be a symbolic link (issue 11: a link planted there
     * made the shim write wherever it pointed). Directories are made one at a time, so none is made
     * through a link; the shim opens the file itself with {@code O_NOFOLLOW}.
     */
    static Path logPathBeneath(Path logDir, String logPath) throws IOException {
        Path p = logDir;
        Files.createDirectories(logDir); // the kubelet's own directory: it made it
        Path rel = Path.of(logPath);
        for (int i = 0; i < rel.getNameCount(); i++) {
            p = p.resolve(rel.getName(i));
            if (Files.isSymbolicLink(p)) {
                throw new CriException.FailedPrecondition("create container: log_path \"" + CriException.shown(logPath)
                        + "\": " + CriException.shown(rel.subpath(0, i + 1).toString()) + " is a symbolic link");
            }
            if (i < rel.getNameCount() - 1 && !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                try {
                    Files.createDirectory(p);
                } catch (java.nio.file.FileAlreadyExistsException e) {
                    // made meanwhile (a directory: fine; anything else fails the next step or the shim's open)
                }
            }
        }
        return p;
    }

    /**
     * {@code log_path} is relative to the pod's log directory (the kubelet sends {@code
     * <container>/<restart>.log}); it must stay beneath it: no absolute path, no {@code ..}, no empty
     * or {@code .} component, no control characters (issue 11: it let a pod author make the shim
     * write anywhere).
     */
    static void checkLogPath(String logPath) {
        if (logPath.isEmpty()) {
            return;
        }
        boolean ok = logPath.length() <= 4096
                && !logPath.startsWith("/")
                && logPath.chars().noneMatch(c -> c < 0x20 || c == 0x7f);
        if (ok) {
            for (String part : logPath.split("/", -1)) {
                if (part.isEmpty() || part.equals(".") || part.equals("..")) {
                    ok = false;
                    break;
                }
            }
        }
        if (!ok) {
            throw new CriException.InvalidArgument("log_path \"" + CriException.shown(logPath)
                    + "\" must be a relative path beneath the pod's log directory");
        }
    }
}

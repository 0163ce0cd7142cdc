package io.stevedore.server.sandbox;

import io.stevedore.cri.v1.PodSandboxConfig;
import io.stevedore.oci.fs.AtomicFiles;
import io.stevedore.oci.linux.Syscalls;
import io.stevedore.server.state.Dirs;
import io.stevedore.server.state.StateLayout;
import io.stevedore.server.state.Trash;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A pod's two directories (see {@link StateLayout}): {@code <root>/sandboxes/<id>} (its {@code
 * resolv.conf}, {@code hosts} and {@code hostname}) and {@code <runRoot>/sandboxes/<id>} (its
 * {@code /dev/shm}, a tmpfs of its own mounted there). Removal goes through a {@link Trash} beside
 * each.
 */
final class SandboxDirs {
    private static final Logger log = LoggerFactory.getLogger(SandboxDirs.class);
    private static final String SHM_OPTIONS = "mode=1777,size=65536k";
    private static final String RUN_CONFIG = "run-config.pb";

    private final Path stateRoot;
    private final Path runRoot;
    private final Trash stateTrash;
    private final Trash runTrash;
    private final Syscalls sys;

    SandboxDirs(StateLayout layout, Syscalls sys) throws IOException {
        this.stateRoot = Files.createDirectories(layout.sandboxFiles());
        this.runRoot = Files.createDirectories(layout.sandboxRun());
        this.stateTrash = new Trash(layout.sandboxFilesTrash());
        this.runTrash = new Trash(layout.sandboxRunTrash());
        this.sys = sys;
    }

    Path state(String id) {
        return stateRoot.resolve(id);
    }

    Path createState(String id) throws IOException {
        return Files.createDirectories(state(id));
    }

    Path createRun(String id) throws IOException {
        return Files.createDirectories(runRoot.resolve(id));
    }

    /**
     * Writes the config of a pod whose run begins into its state directory, before the run acquires
     * anything: a run cut short by a crash is given back from it (its CNI DEL needs the pod's
     * config). Atomic, not flushed: what a power loss takes with it (the run root's pins and shm)
     * needs no giving back.
     */
    void writeRunConfig(String id, PodSandboxConfig cfg) throws IOException {
        Path file = state(id).resolve(RUN_CONFIG);
        try {
            AtomicFiles.write(file, cfg.toByteArray(), 0600, AtomicFiles.Durability.ATOMIC_ONLY);
        } catch (IOException e) {
            throw new IOException("write " + file + ": " + e.getMessage(), e); // ENOSPC names no file
        }
    }

    /** The config {@link #writeRunConfig} wrote for {@code id}; empty when missing or unreadable. */
    Optional<PodSandboxConfig> runConfig(String id) {
        try {
            return Optional.of(
                    PodSandboxConfig.parseFrom(Files.readAllBytes(state(id).resolve(RUN_CONFIG))));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The ids that have a state or a run directory. */
    Set<String> ids() throws IOException {
        Set<String> ids = new TreeSet<>();
        for (Path root : List.of(stateRoot, runRoot)) {
            list(root).forEach(p -> ids.add(p.getFileName().toString()));
        }
        return ids;
    }

    /** Where the pod's {@code /dev/shm} is mounted. */
    Path shm(String id) {
        return runRoot.resolve(id).resolve("shm");
    }

    /** Mounts the pod's {@code /dev/shm} in its run directory. */
    Path mountShm(String id) throws IOException {
        Path shm = Files.createDirectories(shm(id));
        sys.mount("shm", shm, "tmpfs", Syscalls.MS_NOSUID | Syscalls.MS_NODEV | Syscalls.MS_NOEXEC, SHM_OPTIONS);
        return shm;
    }

    /** Unmounts it; fine when it is not mounted. */
    void unmountShm(Path shm) {
        try {
            sys.umount2(shm, Syscalls.MNT_DETACH);
        } catch (IOException e) {
            // not mounted
        }
    }

    /** Takes both directories of {@code id} away; refused while anything under them is mounted. */
    void discard(String id) throws IOException {
        runTrash.discard(runRoot.resolve(id));
        stateTrash.discard(state(id));
    }

    /**
     * Removes the directories of every id that {@code owned} does not accept: what a run cut short
     * by a crash left. A run directory's shm is unmounted first. One that cannot be removed is
     * logged and left for the next start.
     */
    void sweep(Predicate<String> owned) throws IOException {
        for (Path p : list(runRoot)) {
            if (owned.test(p.getFileName().toString())) continue;
            unmountShm(p.resolve("shm"));
            try {
                Dirs.deleteTree(p);
            } catch (IOException e) {
                log.atWarn().addKeyValue("path", p).setCause(e).log("removing a stray pod run directory failed");
            }
        }
        for (Path p : list(stateRoot)) {
            if (owned.test(p.getFileName().toString())) continue;
            try {
                stateTrash.discard(p);
            } catch (IOException e) {
                log.atWarn().addKeyValue("path", p).setCause(e).log("removing a stray pod state directory failed");
            }
        }
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }
}

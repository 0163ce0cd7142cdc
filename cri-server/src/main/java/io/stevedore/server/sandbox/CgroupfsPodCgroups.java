package io.stevedore.server.sandbox;

import io.stevedore.server.host.CgroupPaths;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link PodCgroups} through cgroupfs, outside any OCI runtime. A path lives in every v1
 * hierarchy, or in the one v2 hierarchy, under {@code root} (normally {@code /sys/fs/cgroup}).
 */
final class CgroupfsPodCgroups implements PodCgroups {
    private static final Logger log = LoggerFactory.getLogger(CgroupfsPodCgroups.class);

    private final Path root;
    private final boolean systemd;

    CgroupfsPodCgroups(Path root) {
        this(root, false);
    }

    /** @param systemd pods' own parents are slices ({@code stevedore-<id>.slice}) */
    CgroupfsPodCgroups(Path root, boolean systemd) {
        this.root = root;
        this.systemd = systemd;
    }

    /**
     * {@inheritDoc} Under systemd: {@code stevedore-<id>.slice}, nested in {@code stevedore.slice};
     * runc has systemd create it with the first container's scope.
     */
    @Override
    public String ownParent(String sandboxId) {
        return systemd ? "stevedore-" + sandboxId + ".slice" : PodCgroups.super.ownParent(sandboxId);
    }

    /**
     * {@inheritDoc} A v1 cpuset level made here gets its parent's CPUs and memory nodes, as runc
     * does, since a task cannot join a cpuset that has none.
     */
    @Override
    public void join(String path, int pid) throws IOException {
        Path rel = CgroupPaths.relative(path);
        for (Path h : hierarchies()) {
            Path dir = h.resolve(rel);
            List<Path> made = new ArrayList<>();
            for (Path p = dir;
                    p != null && p.startsWith(h) && !p.equals(h) && !Files.isDirectory(p);
                    p = p.getParent()) {
                made.addFirst(p);
            }
            for (Path p : made) {
                try {
                    Files.createDirectory(p);
                } catch (FileAlreadyExistsException raced) {
                    // another pod made the shared parent at the same time
                }
                copyIfEmpty(p, "cpuset.cpus");
                copyIfEmpty(p, "cpuset.mems");
            }
            Files.writeString(dir.resolve("cgroup.procs"), Integer.toString(pid));
        }
    }

    @Override
    public void remove(String path) {
        Path rel = CgroupPaths.relative(path);
        try {
            for (Path h : hierarchies()) {
                Path dir = h.resolve(rel);
                if (!Files.isDirectory(dir)) continue;
                try {
                    Files.delete(dir);
                } catch (IOException e) {
                    log.atDebug().addKeyValue("cgroup", dir).log("cgroup not removed: {}", e.toString());
                }
            }
        } catch (IOException e) {
            log.atDebug().log("listing cgroup hierarchies failed: {}", e.toString());
        }
    }

    private List<Path> hierarchies() throws IOException {
        if (Files.exists(root.resolve("cgroup.controllers"))) return List.of(root);
        try (Stream<Path> hs = Files.list(root)) {
            // "cpu,cpuacct" is often reachable as "cpu" and "cpuacct" too: skip the links.
            return hs.filter(h -> Files.isDirectory(h) && !Files.isSymbolicLink(h))
                    .toList();
        }
    }

    private static void copyIfEmpty(Path dir, String file) throws IOException {
        Path f = dir.resolve(file);
        if (!Files.exists(f) || !Files.readString(f).isBlank()) return;
        Files.writeString(f, Files.readString(dir.getParent().resolve(file)).strip());
    }
}

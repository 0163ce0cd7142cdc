package io.stevedore.server.sandbox;

import io.stevedore.oci.spec.Resources;
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

    /** {@inheritDoc} Levels are made as {@link #made} says. */
    @Override
    public void join(String path, int pid) throws IOException {
        Path rel = CgroupPaths.relative(path);
        for (Path h : hierarchies()) {
            Files.writeString(made(h, rel).resolve("cgroup.procs"), Integer.toString(pid));
        }
    }

    /**
     * {@inheritDoc} On v1, in the hierarchies of those controllers: {@code cpu.shares}, {@code
     * cpu.cfs_period_us} and {@code cpu.cfs_quota_us} (the period first, unless the kernel refuses
     * it with the old quota, as runc orders them), {@code cpuset.cpus} and {@code .mems}, {@code
     * memory.limit_in_bytes}, {@code hugetlb.<size>.limit_in_bytes}; on v2 see {@link
     * CgroupV2Limits}. A hierarchy with nothing to set is left alone.
     */
    @Override
    public void set(String path, Resources limits) throws IOException {
        Path rel = CgroupPaths.relative(path);
        if (Files.exists(root.resolve("cgroup.controllers"))) {
            CgroupV2Limits.set(root, rel, limits);
            return;
        }
        Resources.Cpu cpu = limits.cpu();
        if (cpu != null && (cpu.shares() != null || cpu.quota() != null || cpu.period() != null)) {
            Path dir = made(hierarchy("cpu"), rel);
            if (cpu.shares() != null) write(dir, "cpu.shares", cpu.shares());
            cfs(dir, cpu.quota(), cpu.period());
        }
        if (cpu != null && (cpu.cpus() != null || cpu.mems() != null)) {
            Path dir = made(hierarchy("cpuset"), rel);
            if (cpu.cpus() != null) write(dir, "cpuset.cpus", cpu.cpus());
            if (cpu.mems() != null) write(dir, "cpuset.mems", cpu.mems());
        }
        if (limits.memory() != null && limits.memory().limit() != null) {
            write(
                    made(hierarchy("memory"), rel),
                    "memory.limit_in_bytes",
                    limits.memory().limit());
        }
        for (Resources.HugepageLimit page : limits.hugepageLimits()) {
            write(made(hierarchy("hugetlb"), rel), "hugetlb." + page.pageSize() + ".limit_in_bytes", page.limit());
        }
    }

    /** The period first; when the kernel refuses it beside the old quota, the quota first. */
    private static void cfs(Path dir, Long quota, Long period) throws IOException {
        if (period != null) {
            try {
                write(dir, "cpu.cfs_period_us", period);
            } catch (IOException refused) {
                if (quota == null) throw refused;
                write(dir, "cpu.cfs_quota_us", quota);
                write(dir, "cpu.cfs_period_us", period);
                return;
            }
        }
        if (quota != null) write(dir, "cpu.cfs_quota_us", quota);
    }

    /**
     * {@code h/rel}, with the levels that were missing made; a v1 cpuset level made here gets its
     * parent's CPUs and memory nodes, as runc does, since a task cannot join a cpuset that has none.
     */
    private static Path made(Path h, Path rel) throws IOException {
        Path dir = h.resolve(rel);
        List<Path> made = new ArrayList<>();
        for (Path p = dir; p != null && p.startsWith(h) && !p.equals(h) && !Files.isDirectory(p); p = p.getParent()) {
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
        return dir;
    }

    /** The v1 hierarchy {@code controller} is mounted in ({@code cpu} is in {@code cpu,cpuacct}). */
    private Path hierarchy(String controller) throws IOException {
        for (Path h : hierarchies()) {
            if (List.of(h.getFileName().toString().split(",")).contains(controller)) return h;
        }
        throw new IOException("no " + controller + " cgroup hierarchy under " + root);
    }

    static void write(Path dir, String file, Object value) throws IOException {
        Path f = dir.resolve(file);
        try {
            Files.writeString(f, value.toString());
        } catch (IOException e) {
            throw new IOException("write " + value + " to " + f + ": " + e.getMessage(), e);
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

package io.stevedore.server.sandbox;

import io.stevedore.oci.spec.Resources;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A pod cgroup's limits on cgroup v2, as runc's cgroupfs driver writes them: {@code cpu.weight}
 * (from the shares, runc's conversion), {@code cpu.max} ({@code max} for no quota), {@code
 * cpuset.cpus} and {@code .mems}, {@code memory.max} ({@code max} for no limit), {@code
 * hugetlb.<size>.max}, then the unified keys as given. The controllers written are enabled in
 * {@code cgroup.subtree_control} from the root down (those the root offers), since a v2 cgroup has
 * a controller's files only when its parent enables it.
 */
final class CgroupV2Limits {
    private CgroupV2Limits() {}

    static void set(Path root, Path rel, Resources limits) throws IOException {
        Map<String, String> files = files(limits);
        if (files.isEmpty()) return;
        Path dir = made(root, rel, controllers(root, files.keySet()));
        for (var f : files.entrySet()) {
            CgroupfsPodCgroups.write(dir, f.getKey(), f.getValue());
        }
    }

    /** The files to write, in order, with their values. */
    static Map<String, String> files(Resources limits) {
        Map<String, String> files = new java.util.LinkedHashMap<>();
        Resources.Cpu cpu = limits.cpu();
        if (cpu != null) {
            if (cpu.shares() != null && cpu.shares() > 0) files.put("cpu.weight", Long.toString(weight(cpu.shares())));
            if (cpu.quota() != null) {
                String max = cpu.quota() < 0 ? "max" : cpu.quota().toString();
                files.put("cpu.max", cpu.period() == null ? max : max + " " + cpu.period());
            }
            if (cpu.cpus() != null) files.put("cpuset.cpus", cpu.cpus());
            if (cpu.mems() != null) files.put("cpuset.mems", cpu.mems());
        }
        if (limits.memory() != null && limits.memory().limit() != null) {
            long limit = limits.memory().limit();
            files.put("memory.max", limit < 0 ? "max" : Long.toString(limit));
        }
        for (Resources.HugepageLimit page : limits.hugepageLimits()) {
            files.put("hugetlb." + page.pageSize() + ".max", Long.toString(page.limit()));
        }
        files.putAll(limits.unified());
        return files;
    }

    /** runc's {@code ConvertCPUSharesToCgroupV2Value}: [2, 262144] onto [1, 10000]. */
    static long weight(long shares) {
        return 1 + ((Math.clamp(shares, 2L, 262_144L) - 2) * 9999) / 262_142;
    }

    /** The controllers those files belong to ({@code memory.max} → {@code memory}) that the root offers. */
    private static Set<String> controllers(Path root, Set<String> files) throws IOException {
        Path offered = root.resolve("cgroup.controllers");
        List<String> available = List.of(Files.readString(offered).strip().split("\\s+"));
        Set<String> wanted = new LinkedHashSet<>();
        for (String f : files) {
            String controller = f.substring(0, f.indexOf('.'));
            if (available.contains(controller)) wanted.add(controller);
        }
        return wanted;
    }

    /** {@code root/rel}, made where missing, each level's parent enabling {@code controllers}. */
    private static Path made(Path root, Path rel, Set<String> controllers) throws IOException {
        Path dir = root.resolve(rel);
        List<Path> levels = new ArrayList<>();
        for (Path p = dir; p != null && p.startsWith(root) && !p.equals(root); p = p.getParent()) {
            levels.addFirst(p);
        }
        String enable = String.join(" ", controllers.stream().map(c -> "+" + c).toList());
        for (Path p : levels) {
            if (!enable.isEmpty()) CgroupfsPodCgroups.write(p.getParent(), "cgroup.subtree_control", enable);
            try {
                Files.createDirectory(p);
            } catch (FileAlreadyExistsException exists) {
                // made by a container of the pod, or by another pod (a shared parent)
            }
        }
        return dir;
    }
}

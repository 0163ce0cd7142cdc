package io.stevedore.server.stats;

import static io.stevedore.server.stats.CadvisorMetric.*;
import static io.stevedore.server.stats.CgroupStats.keyed;
import static io.stevedore.server.stats.CgroupStats.number;

import io.stevedore.server.host.CgroupPaths;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * A container cgroup's CPU, memory, block I/O and pids counters as cAdvisor metrics, read from
 * cgroupfs with {@link CgroupStats}'s layout, the way containerd's {@code extractCPUMetrics},
 * {@code extractMemoryMetrics}, {@code extractDiskIOMetrics} and {@code extractProcessMetrics} map
 * its cgroups library's v1 and v2 stats. A file missing from a cgroup that exists means the
 * controller is not there, and its metrics are left out. Thread-safe.
 */
final class CgroupMetrics {
    /** {@code cpuacct.stat} counts in USER_HZ, which the kernel fixes at 100 for user space. */
    private static final long TICKS_PER_SECOND = 100;

    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final CgroupStats cgroups;

    CgroupMetrics(CgroupStats cgroups) {
        this.cgroups = cgroups;
    }

    /**
     * Adds the cgroup's metrics to {@code out}.
     *
     * @return false, adding nothing, when the cgroup does not exist
     */
    boolean addTo(String cgroupsPath, MetricBatch out) {
        Path rel = CgroupPaths.relative(cgroupsPath);
        if (!cgroups.exists(rel)) return false;
        try {
            if (cgroups.isUnified()) {
                v2(cgroups.dir("", rel), out);
            } else {
                v1(rel, out);
            }
            return true;
        } catch (IOException e) {
            if (!cgroups.exists(rel)) return false; // removed while read
            throw new UncheckedIOException("read metrics of cgroup \"" + cgroupsPath + "\"", e);
        }
    }

    /** The processes in the cgroup ({@code cgroup.procs}); empty when it has none or is gone. */
    List<Long> pids(String cgroupsPath) {
        Path rel = CgroupPaths.relative(cgroupsPath);
        Path dir = cgroups.isUnified() ? cgroups.dir("", rel) : cgroups.dir("pids", rel);
        if (!cgroups.isUnified() && !Files.isDirectory(dir)) dir = cgroups.dir("memory", rel);
        List<Long> pids = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(dir.resolve("cgroup.procs"))) {
                if (!line.isBlank()) pids.add(Long.parseLong(line.strip()));
            }
        } catch (IOException | NumberFormatException e) {
            return List.of();
        }
        return pids;
    }

    private void v2(Path dir, MetricBatch out) throws IOException {
        Map<String, Long> cpu = keyed(dir.resolve("cpu.stat"));
        if (cpu.containsKey("usage_usec")) {
            out.add(CPU_USAGE, usecToSeconds(cpu.get("usage_usec")))
                    .add(CPU_USER, usecToSeconds(cpu.getOrDefault("user_usec", 0L)))
                    .add(CPU_SYSTEM, usecToSeconds(cpu.getOrDefault("system_usec", 0L)))
                    .add(CFS_PERIODS, cpu.getOrDefault("nr_periods", 0L))
                    .add(CFS_THROTTLED_PERIODS, cpu.getOrDefault("nr_throttled", 0L))
                    .add(CFS_THROTTLED_SECONDS, usecToSeconds(cpu.getOrDefault("throttled_usec", 0L)));
        }
        OptionalLong usage = number(dir.resolve("memory.current"));
        if (usage.isPresent()) {
            Map<String, Long> stat = keyed(dir.resolve("memory.stat"));
            Map<String, Long> events = keyed(dir.resolve("memory.events"));
            long u = usage.getAsLong();
            out.add(MEMORY_USAGE, u);
            number(dir.resolve("memory.peak")).ifPresent(peak -> out.add(MEMORY_MAX_USAGE, peak));
            out.add(MEMORY_WORKING_SET, CgroupStats.workingSet(u, stat.getOrDefault("inactive_file", 0L)))
                    .add(MEMORY_RSS, stat.getOrDefault("anon", 0L))
                    .add(MEMORY_CACHE, stat.getOrDefault("file", 0L))
                    .add(MEMORY_MAPPED_FILE, stat.getOrDefault("file_mapped", 0L))
                    .add(MEMORY_KERNEL, stat.getOrDefault("kernel", stat.getOrDefault("kernel_stack", 0L)))
                    .add(MEMORY_ACTIVE_FILE, stat.getOrDefault("active_file", 0L))
                    .add(MEMORY_INACTIVE_FILE, stat.getOrDefault("inactive_file", 0L))
                    // v2 has no failcnt; runc's fs2 reports memory.events "max" (limit hits) as it
                    .add(MEMORY_FAILCNT, events.getOrDefault("max", 0L))
                    .add(OOM_EVENTS, events.getOrDefault("oom_kill", 0L));
            // memory.stat is hierarchical under v2: both scopes have the same counts, as in cAdvisor
            failures(out, stat.getOrDefault("pgfault", 0L), stat.getOrDefault("pgmajfault", 0L), "container");
            failures(out, stat.getOrDefault("pgfault", 0L), stat.getOrDefault("pgmajfault", 0L), "hierarchy");
            number(dir.resolve("memory.swap.current")).ifPresent(swap -> out.add(MEMORY_SWAP, swap));
        }
        for (var dev : ioStatV2(dir.resolve("io.stat")).entrySet()) {
            Map<String, Long> io = dev.getValue();
            out.add(FS_READS_BYTES, io.getOrDefault("rbytes", 0L), dev.getKey())
                    .add(FS_WRITES_BYTES, io.getOrDefault("wbytes", 0L), dev.getKey())
                    .add(FS_READS, io.getOrDefault("rios", 0L), dev.getKey())
                    .add(FS_WRITES, io.getOrDefault("wios", 0L), dev.getKey());
        }
        pids(dir, out);
    }

    private void v1(Path rel, MetricBatch out) throws IOException {
        Path cpuacct = cgroups.dir("cpuacct", rel);
        OptionalLong usage = number(cpuacct.resolve("cpuacct.usage"));
        if (usage.isPresent()) {
            Map<String, Long> ticks = keyed(cpuacct.resolve("cpuacct.stat"));
            out.add(CPU_USAGE, usage.getAsLong() / NANOS_PER_SECOND)
                    .add(CPU_USER, ticksToSeconds(ticks.getOrDefault("user", 0L)))
                    .add(CPU_SYSTEM, ticksToSeconds(ticks.getOrDefault("system", 0L)));
        }
        Map<String, Long> cfs = keyed(cgroups.dir("cpu", rel).resolve("cpu.stat"));
        if (cfs.containsKey("nr_periods")) {
            out.add(CFS_PERIODS, cfs.get("nr_periods"))
                    .add(CFS_THROTTLED_PERIODS, cfs.getOrDefault("nr_throttled", 0L))
                    .add(CFS_THROTTLED_SECONDS, cfs.getOrDefault("throttled_time", 0L) / NANOS_PER_SECOND);
        }
        memoryV1(cgroups.dir("memory", rel), out);
        Path blkio = cgroups.dir("blkio", rel);
        // the CFQ/BFQ files are empty under other schedulers; the throttle ones always count
        var bytes = ioStatV1(blkio, "io_service_bytes_recursive");
        var ops = ioStatV1(blkio, "io_serviced_recursive");
        for (var dev : bytes.entrySet()) {
            out.add(FS_READS_BYTES, dev.getValue().getOrDefault("read", 0L), dev.getKey())
                    .add(FS_WRITES_BYTES, dev.getValue().getOrDefault("write", 0L), dev.getKey());
        }
        for (var dev : ops.entrySet()) {
            out.add(FS_READS, dev.getValue().getOrDefault("read", 0L), dev.getKey())
                    .add(FS_WRITES, dev.getValue().getOrDefault("write", 0L), dev.getKey());
        }
        pids(cgroups.dir("pids", rel), out);
    }

    private static void memoryV1(Path mem, MetricBatch out) throws IOException {
        OptionalLong usage = number(mem.resolve("memory.usage_in_bytes"));
        if (usage.isEmpty()) return;
        long u = usage.getAsLong();
        // total_* include descendants, as containerd reports them (TotalRSS, TotalCache, ...)
        Map<String, Long> stat = keyed(mem.resolve("memory.stat"));
        out.add(MEMORY_USAGE, u);
        number(mem.resolve("memory.max_usage_in_bytes")).ifPresent(max -> out.add(MEMORY_MAX_USAGE, max));
        out.add(MEMORY_WORKING_SET, CgroupStats.workingSet(u, stat.getOrDefault("total_inactive_file", 0L)))
                .add(MEMORY_RSS, stat.getOrDefault("total_rss", 0L))
                .add(MEMORY_CACHE, stat.getOrDefault("total_cache", 0L))
                .add(MEMORY_MAPPED_FILE, stat.getOrDefault("total_mapped_file", 0L))
                .add(MEMORY_ACTIVE_FILE, stat.getOrDefault("total_active_file", 0L))
                .add(MEMORY_INACTIVE_FILE, stat.getOrDefault("total_inactive_file", 0L));
        number(mem.resolve("memory.failcnt")).ifPresent(n -> out.add(MEMORY_FAILCNT, n));
        number(mem.resolve("memory.kmem.usage_in_bytes")).ifPresent(k -> out.add(MEMORY_KERNEL, k));
        // memsw counts memory plus swap; cAdvisor's swap is the difference
        number(mem.resolve("memory.memsw.usage_in_bytes")).ifPresent(sw -> out.add(MEMORY_SWAP, Math.max(0, sw - u)));
        Map<String, Long> oom = keyed(mem.resolve("memory.oom_control"));
        if (oom.containsKey("oom_kill")) out.add(OOM_EVENTS, oom.get("oom_kill"));
        failures(out, stat.getOrDefault("pgfault", 0L), stat.getOrDefault("pgmajfault", 0L), "container");
        failures(out, stat.getOrDefault("total_pgfault", 0L), stat.getOrDefault("total_pgmajfault", 0L), "hierarchy");
    }

    /** cAdvisor's {@code container_memory_failures_total{failure_type, scope}}. */
    private static void failures(MetricBatch out, long pgfault, long pgmajfault, String scope) {
        out.add(MEMORY_FAILURES, pgfault, "pgfault", scope).add(MEMORY_FAILURES, pgmajfault, "pgmajfault", scope);
    }

    /** {@code pids.current} counts tasks, threads included; {@code pids.max} "max" is 0 (none). */
    private static void pids(Path dir, MetricBatch out) throws IOException {
        OptionalLong current = number(dir.resolve("pids.current"));
        if (current.isEmpty()) return;
        out.add(PROCESSES, current.getAsLong())
                .add(THREADS, current.getAsLong())
                .add(THREADS_MAX, number(dir.resolve("pids.max")).orElse(0));
    }

    /** v2 {@code io.stat}: {@code 8:0 rbytes=1 wbytes=2 rios=3 wios=4 ...} per device. */
    static Map<String, Map<String, Long>> ioStatV2(Path file) throws IOException {
        Map<String, Map<String, Long>> devices = new LinkedHashMap<>();
        for (String line : lines(file)) {
            String[] f = line.strip().split("\\s+");
            if (f.length < 2 || !f[0].contains(":")) continue;
            Map<String, Long> values = new LinkedHashMap<>();
            for (int i = 1; i < f.length; i++) {
                int eq = f[i].indexOf('=');
                if (eq <= 0) continue;
                String key = f[i].substring(0, eq);
                counter(f[i].substring(eq + 1), v -> values.put(key, v));
            }
            devices.put(f[0], values);
        }
        return devices;
    }

    /**
     * v1 {@code blkio.<name>} (falling back to {@code blkio.throttle.<name>} when it counts nothing):
     * {@code 8:0 Read 4096} per device and operation, then a {@code Total} line.
     */
    static Map<String, Map<String, Long>> ioStatV1(Path blkio, String name) throws IOException {
        Map<String, Map<String, Long>> devices = ioStatV1(blkio.resolve("blkio." + name));
        return devices.isEmpty() ? ioStatV1(blkio.resolve("blkio.throttle." + name)) : devices;
    }

    private static Map<String, Map<String, Long>> ioStatV1(Path file) throws IOException {
        Map<String, Map<String, Long>> devices = new LinkedHashMap<>();
        for (String line : lines(file)) {
            String[] f = line.strip().split("\\s+");
            if (f.length != 3 || !f[0].contains(":")) continue; // "Total 123"
            String op = f[1].toLowerCase(java.util.Locale.ROOT);
            counter(
                    f[2],
                    v -> devices.computeIfAbsent(f[0], d -> new LinkedHashMap<>())
                            .put(op, v));
        }
        return devices;
    }

    private static void counter(String text, java.util.function.LongConsumer to) {
        try {
            long v = Long.parseUnsignedLong(text);
            to.accept(v < 0 ? Long.MAX_VALUE : v);
        } catch (NumberFormatException e) {
            // not a counter; skipped
        }
    }

    private static List<String> lines(Path file) throws IOException {
        try {
            return Files.readAllLines(file);
        } catch (NoSuchFileException e) {
            return List.of();
        }
    }

    private static long usecToSeconds(long usec) {
        return usec / 1_000_000L;
    }

    private static long ticksToSeconds(long ticks) {
        return ticks / TICKS_PER_SECOND;
    }
}

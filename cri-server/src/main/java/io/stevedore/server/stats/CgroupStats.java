package io.stevedore.server.stats;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Reads a cgroup's counters straight from cgroupfs, as cadvisor and containerd's cgroups library
 * do, given the OCI {@code cgroupsPath} of the cgroupfs driver ({@code /kubepods/besteffort/pod1/<id>}).
 *
 * <p>Two layouts. cgroup v2 ({@code <root>/cgroup.controllers} exists): one directory holds every
 * controller's files. v1, or hybrid: each controller has its own hierarchy ({@code
 * <root>/cpuacct/<path>}, {@code <root>/memory/<path>}, {@code <root>/pids/<path>}); the hybrid
 * layout's {@code <root>/unified} holds no controllers and is not read.
 *
 * <p>A file missing from a cgroup that exists reads as "no data" (0, or no limit): the v2 root has
 * no {@code memory.current}, the v1 root no {@code pids.current}, and a controller may be disabled
 * for a subtree. Thread-safe; the layout is probed once, at construction.
 */
public final class CgroupStats {
    public static final Path DEFAULT_ROOT = Path.of("/sys/fs/cgroup");

    /**
     * containerd's {@code isMemoryUnlimited}: "no limit" is stored rounded down to a page multiple
     * (v1 shows 9223372036854771712), so any limit above 2^62 counts as none.
     */
    static final long UNLIMITED_ABOVE = 1L << 62;

    private final Path root;
    private final boolean unified;
    private final Path cpuacct; // v1 hierarchies, unused under v2
    private final Path memory;
    private final Path pids;
    private final InstantSource clock;

    public CgroupStats() {
        this(DEFAULT_ROOT, InstantSource.system());
    }

    /** @param root where cgroupfs is mounted; tests pass a fake tree */
    public CgroupStats(Path root) {
        this(root, InstantSource.system());
    }

    public CgroupStats(Path root, InstantSource clock) {
        this.root = root;
        this.clock = clock;
        this.unified = Files.exists(root.resolve("cgroup.controllers"));
        // systemd mounts "cpu,cpuacct" and links cpuacct to it; other setups mount cpuacct alone
        this.cpuacct = firstExisting(root, "cpuacct", "cpu,cpuacct", "cpuacct,cpu");
        this.memory = root.resolve("memory");
        this.pids = root.resolve("pids");
    }

    /** Whether the host uses the unified (v2) hierarchy. */
    public boolean isUnified() {
        return unified;
    }

    /**
     * Reads the counters of one cgroup.
     *
     * @param cgroupsPath the OCI {@code linux.cgroupsPath}, relative to the cgroupfs root whether or
     *     not it starts with {@code /}; {@code "/"} is the root cgroup
     * @return empty when the cgroup does not exist (a container that was created but never started,
     *     or one whose cgroup was removed while it was read)
     * @throws IllegalArgumentException when the path has a {@code .} or {@code ..} component
     */
    public Optional<CgroupSample> read(String cgroupsPath) {
        Path rel = io.stevedore.server.host.CgroupPaths.relative(cgroupsPath);
        try {
            return exists(rel) ? Optional.of(unified ? readV2(root.resolve(rel)) : readV1(rel)) : Optional.empty();
        } catch (IOException e) {
            if (!exists(rel)) {
                return Optional.empty(); // removed while we read it: the kernel answers ENODEV or ENOENT
            }
            throw new UncheckedIOException("read stats of cgroup \"" + cgroupsPath + "\"", e);
        }
    }

    /**
     * The directory holding {@code controller}'s files for a cgroup: under v2 the cgroup's own
     * directory, under v1 the cgroup in that controller's hierarchy.
     */
    Path dir(String controller, Path rel) {
        if (unified) return root.resolve(rel);
        return switch (controller) {
            case "cpuacct" -> cpuacct.resolve(rel);
            case "cpu" ->
                firstExisting(root, "cpu", "cpu,cpuacct", "cpuacct,cpu").resolve(rel);
            default -> root.resolve(controller).resolve(rel);
        };
    }

    boolean exists(Path rel) {
        return unified
                ? Files.isDirectory(root.resolve(rel))
                : Files.isDirectory(memory.resolve(rel)) || Files.isDirectory(cpuacct.resolve(rel));
    }

    private CgroupSample readV2(Path dir) throws IOException {
        Instant at = clock.instant();
        long cpuUsec = keyed(dir.resolve("cpu.stat")).getOrDefault("usage_usec", 0L);
        long usage = number(dir.resolve("memory.current")).orElse(0);
        Map<String, Long> stat = keyed(dir.resolve("memory.stat"));
        return new CgroupSample(
                at,
                saturatedMultiply(cpuUsec, 1000),
                usage,
                workingSet(usage, stat.getOrDefault("inactive_file", 0L)),
                stat.getOrDefault("anon", 0L),
                stat.getOrDefault("pgfault", 0L),
                stat.getOrDefault("pgmajfault", 0L),
                limit(number(dir.resolve("memory.max"))),
                number(dir.resolve("pids.current")));
    }

    private CgroupSample readV1(Path rel) throws IOException {
        Instant at = clock.instant();
        long cpu = number(cpuacct.resolve(rel).resolve("cpuacct.usage")).orElse(0);
        Path mem = memory.resolve(rel);
        long usage = number(mem.resolve("memory.usage_in_bytes")).orElse(0);
        Map<String, Long> stat = keyed(mem.resolve("memory.stat"));
        // total_* include descendants; containerd reports those for v1 (TotalRSS, TotalPgFault, ...)
        return new CgroupSample(
                at,
                cpu,
                usage,
                workingSet(usage, total(stat, "inactive_file")),
                total(stat, "rss"),
                total(stat, "pgfault"),
                total(stat, "pgmajfault"),
                limit(number(mem.resolve("memory.limit_in_bytes"))),
                number(pids.resolve(rel).resolve("pids.current")));
    }

    /** cadvisor's and containerd's working set: usage less inactive page cache, floored at 0. */
    static long workingSet(long usage, long inactiveFile) {
        return Math.max(0, usage - inactiveFile);
    }

    private static long total(Map<String, Long> stat, String key) {
        return stat.getOrDefault("total_" + key, stat.getOrDefault(key, 0L));
    }

    private static OptionalLong limit(OptionalLong raw) {
        return raw.isPresent() && raw.getAsLong() <= UNLIMITED_ABOVE ? raw : OptionalLong.empty();
    }

    /** A one-value file; empty when absent or {@code max} (v2's "no limit"). */
    static OptionalLong number(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file).strip();
        } catch (NoSuchFileException e) {
            return OptionalLong.empty();
        }
        return text.equals("max") || text.isEmpty() ? OptionalLong.empty() : OptionalLong.of(unsigned(text));
    }

    /** A flat-keyed file ({@code memory.stat}, {@code cpu.stat}): {@code key value} per line. */
    static Map<String, Long> keyed(Path file) throws IOException {
        Map<String, Long> values = new HashMap<>();
        try {
            for (String line : Files.readAllLines(file)) {
                int sp = line.indexOf(' ');
                if (sp > 0) {
                    try {
                        values.put(
                                line.substring(0, sp),
                                unsigned(line.substring(sp + 1).strip()));
                    } catch (NumberFormatException e) {
                        // not a counter (newer kernels add nested keys); not one we read
                    }
                }
            }
        } catch (NoSuchFileException e) {
            // controller not enabled here
        }
        return values;
    }

    /** Kernel counters are u64; beyond {@code Long.MAX_VALUE} they saturate. */
    private static long unsigned(String text) {
        long v = Long.parseUnsignedLong(text);
        return v < 0 ? Long.MAX_VALUE : v;
    }

    private static long saturatedMultiply(long a, long b) {
        long hi = Math.multiplyHigh(a, b);
        long lo = a * b;
        return hi != 0 || lo < 0 ? Long.MAX_VALUE : lo;
    }

    private static Path firstExisting(Path root, String... names) {
        for (String name : names) {
            if (Files.isDirectory(root.resolve(name))) {
                return root.resolve(name);
            }
        }
        return root.resolve(names[0]);
    }
}

package io.stevedore.server.stats;

import io.stevedore.cri.v1.CpuUsage;
import io.stevedore.cri.v1.MemoryUsage;
import io.stevedore.cri.v1.ProcessUsage;
import io.stevedore.cri.v1.UInt64Value;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Predicate;

/**
 * Turns cgroup samples into CRI's {@code CpuUsage} and {@code MemoryUsage}, the way containerd's
 * {@code container_stats_list.go} does.
 *
 * <p>{@code usage_nano_cores} is a rate, so it needs the previous sample of the same container or
 * pod: one per id is kept here until {@link #retain} (or {@link #forget(String)}) drops it; the
 * caller prunes against the ids that still exist, or the map grows with every container the node
 * ever ran. It is left unset for the first
 * sample of an id and after the counter went backwards; a sample no newer than the kept one
 * repeats the last rate rather than dividing by zero (kubelet's summary and metrics endpoints
 * may ask within the same instant). Thread-safe.
 *
 * <p>A missing cgroup (created, never started) still gets both messages, timestamped now with
 * zero counters: critest's "runtime should support listing container stats" requires {@code
 * Cpu.Timestamp} and {@code Memory.Timestamp} to be non-zero.
 */
public final class CriStats {
    private final InstantSource clock;
    private final ConcurrentMap<String, CpuPoint> last = new ConcurrentHashMap<>();

    private record CpuPoint(Instant at, long usageNanos, OptionalLong nanoCores) {}

    public CriStats(InstantSource clock) {
        this.clock = clock;
    }

    /**
     * @param id the container or sandbox the sample belongs to, keying the rate computation
     * @param sample what {@link CgroupStats#read} returned
     */
    public CpuUsage cpu(String id, Optional<CgroupSample> sample) {
        if (sample.isEmpty()) {
            return CpuUsage.newBuilder()
                    .setTimestamp(nanos(clock.instant()))
                    .setUsageCoreNanoSeconds(u64(0))
                    .setUsageNanoCores(u64(0))
                    .build();
        }
        CgroupSample s = sample.get();
        var cpu = CpuUsage.newBuilder()
                .setTimestamp(nanos(s.timestamp()))
                .setUsageCoreNanoSeconds(u64(s.cpuUsageNanos()));
        OptionalLong rate = last.compute(id, (k, prev) -> next(prev, s)).nanoCores();
        rate.ifPresent(r -> cpu.setUsageNanoCores(u64(r)));
        return cpu.build();
    }

    private static CpuPoint next(CpuPoint prev, CgroupSample s) {
        if (prev != null && !s.timestamp().isAfter(prev.at())) {
            return prev;
        }
        if (prev == null || s.cpuUsageNanos() < prev.usageNanos()) {
            return new CpuPoint(s.timestamp(), s.cpuUsageNanos(), OptionalLong.empty());
        }
        long interval = Duration.between(prev.at(), s.timestamp()).toNanos();
        double cores = (double) (s.cpuUsageNanos() - prev.usageNanos()) / interval;
        return new CpuPoint(s.timestamp(), s.cpuUsageNanos(), OptionalLong.of((long) (cores * 1e9)));
    }

    /** {@code available_bytes} is set only under a limit: limit less working set, floored at 0. */
    public MemoryUsage memory(Optional<CgroupSample> sample) {
        if (sample.isEmpty()) {
            return MemoryUsage.newBuilder()
                    .setTimestamp(nanos(clock.instant()))
                    .setWorkingSetBytes(u64(0))
                    .setUsageBytes(u64(0))
                    .setRssBytes(u64(0))
                    .setPageFaults(u64(0))
                    .setMajorPageFaults(u64(0))
                    .build();
        }
        CgroupSample s = sample.get();
        var memory = MemoryUsage.newBuilder()
                .setTimestamp(nanos(s.timestamp()))
                .setWorkingSetBytes(u64(s.workingSetBytes()))
                .setUsageBytes(u64(s.memoryUsageBytes()))
                .setRssBytes(u64(s.rssBytes()))
                .setPageFaults(u64(s.pageFaults()))
                .setMajorPageFaults(u64(s.majorPageFaults()));
        s.memoryLimitBytes().ifPresent(l -> memory.setAvailableBytes(u64(Math.max(0, l - s.workingSetBytes()))));
        return memory.build();
    }

    /** {@code LinuxPodSandboxStats.process}: empty when the pids controller gave no count. */
    public Optional<ProcessUsage> process(Optional<CgroupSample> sample) {
        return sample.filter(s -> s.pids().isPresent())
                .map(s -> ProcessUsage.newBuilder()
                        .setTimestamp(nanos(s.timestamp()))
                        .setProcessCount(u64(s.pids().getAsLong()))
                        .build());
    }

    /** Drops the kept sample of a removed container or sandbox; idempotent. */
    public void forget(String id) {
        last.remove(id);
    }

    /**
     * Drops the kept samples of every id {@code live} rejects: containers and pods removed since.
     * An id sampled while this runs may lose its sample; its next rate is then one sample late.
     */
    public void retain(Predicate<String> live) {
        last.keySet().removeIf(live.negate());
    }

    /** How many ids have a kept sample. */
    int size() {
        return last.size();
    }

    static long nanos(Instant at) {
        return Math.addExact(Math.multiplyExact(at.getEpochSecond(), 1_000_000_000L), at.getNano());
    }

    private static UInt64Value u64(long v) {
        return UInt64Value.newBuilder().setValue(v).build();
    }
}

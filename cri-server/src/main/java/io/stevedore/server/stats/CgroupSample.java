package io.stevedore.server.stats;

import java.time.Instant;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * One reading of a cgroup's counters, in the units CRI reports them. Counters the kernel keeps as
 * unsigned 64-bit values are clamped to {@link Long#MAX_VALUE}.
 *
 * @param timestamp when the CPU counter was read
 * @param cpuUsageNanos cumulative CPU time of all tasks, in nanoseconds
 * @param memoryUsageBytes memory charged to the cgroup, page cache included
 * @param workingSetBytes usage minus inactive file pages, never below 0 (what kubelet evicts on)
 * @param rssBytes anonymous memory (v1 {@code total_rss}, v2 {@code anon})
 * @param pageFaults cumulative page faults
 * @param majorPageFaults cumulative major page faults
 * @param memoryLimitBytes the hard memory limit; empty when unlimited
 * @param pids tasks in the cgroup; empty where the pids controller is not available
 */
public record CgroupSample(
        Instant timestamp,
        long cpuUsageNanos,
        long memoryUsageBytes,
        long workingSetBytes,
        long rssBytes,
        long pageFaults,
        long majorPageFaults,
        OptionalLong memoryLimitBytes,
        OptionalLong pids) {
    public CgroupSample {
        Objects.requireNonNull(timestamp, "timestamp");
        Objects.requireNonNull(memoryLimitBytes, "memoryLimitBytes");
        Objects.requireNonNull(pids, "pids");
    }
}

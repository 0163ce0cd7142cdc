package io.stevedore.server.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.cri.v1.CpuUsage;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class CriStatsTest {
    private static final Instant T0 = Instant.parse("2026-11-23T00:00:00Z");
    private static final long T0_NANOS = 1_795_392_000_000_000_000L;

    private final CriStats stats = new CriStats(InstantSource.fixed(T0.plusSeconds(100)));

    private static Optional<CgroupSample> cpu(Instant at, long usageNanos) {
        return Optional.of(new CgroupSample(at, usageNanos, 0, 0, 0, 0, 0, OptionalLong.empty(), OptionalLong.empty()));
    }

    private static Optional<CgroupSample> memory(long usage, long workingSet, OptionalLong limit) {
        return Optional.of(new CgroupSample(T0, 0, usage, workingSet, 300, 40, 5, limit, OptionalLong.of(3)));
    }

    @Test
    void cpu_firstSample_hasUsageButNoRate() {
        CpuUsage u = stats.cpu("c1", cpu(T0, 1_000_000_000));

        assertEquals(T0_NANOS, u.getTimestamp());
        assertEquals(1_000_000_000, u.getUsageCoreNanoSeconds().getValue());
        assertFalse(u.hasUsageNanoCores(), "a rate needs two samples");
    }

    @Test
    void cpu_secondSample_rateOverTheInterval() {
        stats.cpu("c1", cpu(T0, 1_000_000_000));

        CpuUsage u = stats.cpu("c1", cpu(T0.plusSeconds(2), 4_000_000_000L));

        assertEquals(1_500_000_000, u.getUsageNanoCores().getValue(), "3 s of CPU in 2 s: 1.5 cores");
    }

    @Test
    void cpu_ratesAreKeptPerId() {
        stats.cpu("c1", cpu(T0, 0));
        stats.cpu("c2", cpu(T0, 0));

        assertEquals(
                500_000_000,
                stats.cpu("c1", cpu(T0.plusSeconds(1), 500_000_000))
                        .getUsageNanoCores()
                        .getValue());
        assertEquals(
                2_000_000_000,
                stats.cpu("c2", cpu(T0.plusSeconds(1), 2_000_000_000))
                        .getUsageNanoCores()
                        .getValue());
    }

    @Test
    void cpu_sampleNoNewer_repeatsTheLastRate() {
        stats.cpu("c1", cpu(T0, 0));
        stats.cpu("c1", cpu(T0.plusSeconds(1), 250_000_000));

        CpuUsage again = stats.cpu("c1", cpu(T0.plusSeconds(1), 250_000_000));

        assertEquals(250_000_000, again.getUsageNanoCores().getValue());
    }

    @Test
    void cpu_counterWentBackwards_restartsTheRate() {
        stats.cpu("c1", cpu(T0, 5_000_000_000L));

        assertFalse(stats.cpu("c1", cpu(T0.plusSeconds(1), 1_000)).hasUsageNanoCores());
        assertEquals(
                1_000_000_000,
                stats.cpu("c1", cpu(T0.plusSeconds(2), 1_000_001_000))
                        .getUsageNanoCores()
                        .getValue());
    }

    @Test
    void forget_dropsTheKeptSample() {
        stats.cpu("c1", cpu(T0, 0));
        stats.forget("c1");
        stats.forget("c1"); // idempotent

        assertFalse(stats.cpu("c1", cpu(T0.plus(Duration.ofSeconds(1)), 1_000)).hasUsageNanoCores());
    }

    @Test
    void cpuAndMemory_missingCgroup_timestampedNowWithZeros() {
        var cpu = stats.cpu("created", Optional.empty());
        var memory = stats.memory(Optional.empty());

        assertEquals(T0_NANOS + 100_000_000_000L, cpu.getTimestamp(), "critest: Cpu.Timestamp non-zero");
        assertEquals(0, cpu.getUsageCoreNanoSeconds().getValue());
        assertTrue(cpu.hasUsageNanoCores());
        assertEquals(T0_NANOS + 100_000_000_000L, memory.getTimestamp(), "critest: Memory.Timestamp non-zero");
        assertTrue(memory.hasWorkingSetBytes());
        assertEquals(0, memory.getWorkingSetBytes().getValue());
        assertFalse(memory.hasAvailableBytes());
        assertEquals(Optional.empty(), stats.process(Optional.empty()));
    }

    @Test
    void memory_limited_availableIsLimitLessWorkingSet() {
        var m = stats.memory(memory(1000, 800, OptionalLong.of(1024)));

        assertEquals(T0_NANOS, m.getTimestamp());
        assertEquals(1000, m.getUsageBytes().getValue());
        assertEquals(800, m.getWorkingSetBytes().getValue());
        assertEquals(224, m.getAvailableBytes().getValue());
        assertEquals(300, m.getRssBytes().getValue());
        assertEquals(40, m.getPageFaults().getValue());
        assertEquals(5, m.getMajorPageFaults().getValue());
    }

    @Test
    void memory_workingSetAboveLimit_availableIsZero() {
        assertEquals(
                0,
                stats.memory(memory(4096, 4096, OptionalLong.of(1024)))
                        .getAvailableBytes()
                        .getValue());
    }

    @Test
    void memory_unlimited_availableUnset() {
        assertFalse(stats.memory(memory(1000, 800, OptionalLong.empty())).hasAvailableBytes());
    }

    @Test
    void process_countsPids() {
        var p = stats.process(memory(0, 0, OptionalLong.empty())).orElseThrow();

        assertEquals(3, p.getProcessCount().getValue());
        assertEquals(T0_NANOS, p.getTimestamp());
    }

    @Test
    void retain_dropsTheSamplesOfIdsNoLongerLive() {
        stats.cpu("c1", cpu(T0, 0));
        stats.cpu("c2", cpu(T0, 0));

        stats.retain("c2"::equals);

        assertEquals(1, stats.size());
        assertFalse(stats.cpu("c1", cpu(T0.plusSeconds(1), 1)).hasUsageNanoCores(), "c1 starts over");
        assertTrue(stats.cpu("c2", cpu(T0.plusSeconds(1), 1)).hasUsageNanoCores(), "c2 kept its sample");
    }

    @Test
    void retain_overManyCreateRemoveCycles_keepsOnlyWhatExists() {
        var live = new java.util.HashSet<String>(java.util.List.of("steady"));
        for (int i = 0; i < 10_000; i++) {
            String id = "c" + i;
            live.add(id);
            stats.cpu("steady", cpu(T0.plusSeconds(i), i));
            stats.cpu(id, cpu(T0.plusSeconds(i), i));
            live.remove(id); // removed
            stats.retain(live::contains);
            assertEquals(1, stats.size(), "after cycle " + i);
        }
    }
}

package io.stevedore.server.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.cri.v1.Metric;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link CgroupMetrics} on fake cgroupfs trees of both layouts, with the files the kernel writes. */
class CgroupMetricsTest {
    private static final String CTR = "/kubepods/burstable/pod1/abc";
    private static final List<String> LABELS = List.of("web", "default", "app", "abc", "busybox");

    @TempDir
    Path root;

    private void file(String path, String content) throws IOException {
        Path f = root.resolve(path);
        Files.createDirectories(f.getParent());
        Files.writeString(f, content);
    }

    private List<Metric> read() {
        var batch = new MetricBatch(LABELS, 42);
        assertTrue(new CgroupMetrics(new CgroupStats(root)).addTo(CTR, batch));
        return batch.metrics();
    }

    /** name, plus the labels past the base ones, to value. */
    private static Map<String, Long> byKey(List<Metric> metrics) {
        return metrics.stream()
                .collect(Collectors.toMap(
                        m -> String.join(
                                "/",
                                java.util.stream.Stream.concat(
                                                java.util.stream.Stream.of(m.getName()),
                                                m.getLabelValuesList().stream().skip(LABELS.size()))
                                        .toList()),
                        m -> m.getValue().getValue()));
    }

    @Test
    void addTo_v1_readsEveryHierarchy() throws IOException {
        String c = CTR.substring(1);
        file("cpu,cpuacct/" + c + "/cpuacct.usage", "3500000000\n");
        file("cpu,cpuacct/" + c + "/cpuacct.stat", "user 250\nsystem 120\n");
        file("cpu,cpuacct/" + c + "/cpu.stat", "nr_periods 10\nnr_throttled 2\nthrottled_time 2500000000\n");
        file("memory/" + c + "/memory.usage_in_bytes", "10000\n");
        file("memory/" + c + "/memory.max_usage_in_bytes", "20000\n");
        file("memory/" + c + "/memory.failcnt", "5\n");
        file("memory/" + c + "/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
        file("memory/" + c + "/memory.stat", """
                cache 1
                rss 2
                pgfault 30
                pgmajfault 3
                total_cache 4000
                total_rss 5000
                total_mapped_file 600
                total_active_file 700
                total_inactive_file 1000
                total_pgfault 31
                total_pgmajfault 4
                """);
        file("pids/" + c + "/pids.current", "7\n");
        file("pids/" + c + "/pids.max", "max\n");
        file("pids/" + c + "/cgroup.procs", "11\n12\n");
        file("blkio/" + c + "/blkio.io_service_bytes_recursive", "Total 0\n");
        file("blkio/" + c + "/blkio.throttle.io_service_bytes_recursive", """
                8:0 Read 4096
                8:0 Write 8192
                8:0 Sync 0
                Total 12288
                """);
        file("blkio/" + c + "/blkio.throttle.io_serviced_recursive", "8:0 Read 1\n8:0 Write 2\nTotal 3\n");

        Map<String, Long> m = byKey(read());

        assertEquals(3L, m.get("container_cpu_usage_seconds_total"), "3.5 s, in whole seconds as containerd");
        assertEquals(2L, m.get("container_cpu_user_seconds_total"), "250 USER_HZ ticks");
        assertEquals(1L, m.get("container_cpu_system_seconds_total"));
        assertEquals(10L, m.get("container_cpu_cfs_periods_total"));
        assertEquals(2L, m.get("container_cpu_cfs_throttled_periods_total"));
        assertEquals(2L, m.get("container_cpu_cfs_throttled_seconds_total"));
        assertEquals(10000L, m.get("container_memory_usage_bytes"));
        assertEquals(20000L, m.get("container_memory_max_usage_bytes"));
        assertEquals(9000L, m.get("container_memory_working_set_bytes"), "usage less total_inactive_file");
        assertEquals(5000L, m.get("container_memory_rss"));
        assertEquals(4000L, m.get("container_memory_cache"));
        assertEquals(600L, m.get("container_memory_mapped_file"));
        assertEquals(5L, m.get("container_memory_failcnt"));
        assertEquals(1L, m.get("container_oom_events_total"));
        assertEquals(30L, m.get("container_memory_failures_total/pgfault/container"));
        assertEquals(4L, m.get("container_memory_failures_total/pgmajfault/hierarchy"));
        assertEquals(4096L, m.get("container_fs_reads_bytes_total/8:0"), "throttle files, the others being empty");
        assertEquals(8192L, m.get("container_fs_writes_bytes_total/8:0"));
        assertEquals(2L, m.get("container_fs_writes_total/8:0"));
        assertEquals(7L, m.get("container_processes"));
        assertEquals(0L, m.get("container_threads_max"), "max: no limit");
        assertFalse(m.containsKey("container_memory_swap"), "no memsw file: swap accounting off");
        assertEquals(List.of(11L, 12L), new CgroupMetrics(new CgroupStats(root)).pids(CTR));
    }

    @Test
    void addTo_v2_readsTheOneDirectory() throws IOException {
        file("cgroup.controllers", "cpu io memory pids\n");
        String c = CTR.substring(1);
        file(c + "/cpu.stat", """
                usage_usec 2600000
                user_usec 2000000
                system_usec 600000
                nr_periods 4
                nr_throttled 1
                throttled_usec 1000000
                """);
        file(c + "/memory.current", "50000\n");
        file(c + "/memory.peak", "60000\n");
        file(c + "/memory.swap.current", "0\n");
        file(c + "/memory.events", "low 0\nhigh 0\nmax 9\noom 1\noom_kill 1\n");
        file(c + "/memory.stat", """
                anon 30000
                file 15000
                kernel 2000
                file_mapped 100
                active_file 5000
                inactive_file 10000
                pgfault 77
                pgmajfault 8
                """);
        file(c + "/io.stat", "259:0 rbytes=100 wbytes=200 rios=3 wios=4 dbytes=0 dios=0\n");
        file(c + "/pids.current", "2\n");
        file(c + "/pids.max", "1024\n");
        file(c + "/cgroup.procs", "42\n");

        Map<String, Long> m = byKey(read());

        assertEquals(2L, m.get("container_cpu_usage_seconds_total"));
        assertEquals(2L, m.get("container_cpu_user_seconds_total"));
        assertEquals(0L, m.get("container_cpu_system_seconds_total"));
        assertEquals(1L, m.get("container_cpu_cfs_throttled_periods_total"));
        assertEquals(1L, m.get("container_cpu_cfs_throttled_seconds_total"));
        assertEquals(50000L, m.get("container_memory_usage_bytes"));
        assertEquals(60000L, m.get("container_memory_max_usage_bytes"), "memory.peak");
        assertEquals(40000L, m.get("container_memory_working_set_bytes"));
        assertEquals(30000L, m.get("container_memory_rss"), "anon");
        assertEquals(15000L, m.get("container_memory_cache"), "file");
        assertEquals(2000L, m.get("container_memory_kernel_usage"));
        assertEquals(9L, m.get("container_memory_failcnt"), "memory.events max");
        assertEquals(1L, m.get("container_oom_events_total"));
        assertEquals(0L, m.get("container_memory_swap"));
        assertEquals(77L, m.get("container_memory_failures_total/pgfault/hierarchy"));
        assertEquals(100L, m.get("container_fs_reads_bytes_total/259:0"));
        assertEquals(4L, m.get("container_fs_writes_total/259:0"));
        assertEquals(1024L, m.get("container_threads_max"));
        assertEquals(List.of(42L), new CgroupMetrics(new CgroupStats(root)).pids(CTR));
    }

    @Test
    void addTo_everyMetricHasItsDescriptorsLabelCount() throws IOException {
        file("cgroup.controllers", "cpu memory\n");
        String c = CTR.substring(1);
        file(c + "/cpu.stat", "usage_usec 1\n");
        file(c + "/memory.current", "1\n");

        Map<String, Integer> keys = CadvisorMetric.descriptors().stream()
                .collect(Collectors.toMap(d -> d.getName(), d -> d.getLabelKeysCount()));
        for (Metric metric : read()) {
            assertEquals(keys.get(metric.getName()), metric.getLabelValuesCount(), metric.getName());
            assertEquals(42, metric.getTimestamp());
        }
    }

    @Test
    void addTo_missingCgroup_isFalseAndAddsNothing() throws IOException {
        file("cgroup.controllers", "cpu memory\n");
        var batch = new MetricBatch(LABELS, 1);

        assertFalse(new CgroupMetrics(new CgroupStats(root)).addTo(CTR, batch));
        assertTrue(batch.metrics().isEmpty());
        assertTrue(new CgroupMetrics(new CgroupStats(root)).pids(CTR).isEmpty());
    }
}

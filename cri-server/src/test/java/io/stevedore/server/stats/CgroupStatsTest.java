package io.stevedore.server.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CgroupStatsTest {
    private static final Instant NOW = Instant.parse("2026-11-23T00:00:00Z");
    private static final String CTR = "/kubepods/besteffort/pod123/abc";

    @TempDir
    Path root;

    private CgroupStats stats() {
        return new CgroupStats(root, InstantSource.fixed(NOW));
    }

    private void file(String path, String content) throws IOException {
        Path f = root.resolve(path.replaceFirst("^/+", "")); // "/x" would resolve outside the fake tree
        assertTrue(f.startsWith(root), f.toString());
        Files.createDirectories(f.getParent());
        Files.writeString(f, content);
    }

    /** The files runc leaves in each v1 hierarchy, with the values of a small busybox container. */
    private void v1Container(String cpuacctDir, String limit) throws IOException {
        file(cpuacctDir + CTR + "/cpuacct.usage", "123456789\n");
        file("memory" + CTR + "/memory.usage_in_bytes", "10485760\n");
        file("memory" + CTR + "/memory.limit_in_bytes", limit + "\n");
        file("memory" + CTR + "/memory.stat", """
        cache 1000
        rss 2000
        inactive_file 1
        pgfault 3
        pgmajfault 4
        hierarchical_memory_limit 9223372036854771712
        total_cache 3145728
        total_rss 4194304
        total_inactive_file 1048576
        total_pgfault 500
        total_pgmajfault 7
        """);
        file("pids" + CTR + "/pids.current", "3\n");
    }

    @Test
    void read_v1_readsEachControllerHierarchy() throws IOException {
        v1Container("cpuacct", "9223372036854771712");

        CgroupSample s = stats().read(CTR).orElseThrow();

        assertFalse(stats().isUnified());
        assertEquals(NOW, s.timestamp());
        assertEquals(123456789, s.cpuUsageNanos());
        assertEquals(10485760, s.memoryUsageBytes());
        assertEquals(10485760 - 1048576, s.workingSetBytes(), "usage less total_inactive_file");
        assertEquals(4194304, s.rssBytes(), "total_rss, as containerd");
        assertEquals(500, s.pageFaults());
        assertEquals(7, s.majorPageFaults());
        assertEquals(OptionalLong.empty(), s.memoryLimitBytes(), "page-rounded LONG_MAX is no limit");
        assertEquals(OptionalLong.of(3), s.pids());
    }

    @Test
    void read_v1_limitAndCombinedCpuMount() throws IOException {
        v1Container("cpu,cpuacct", "20971520");

        CgroupSample s = stats().read(CTR).orElseThrow();

        assertEquals(123456789, s.cpuUsageNanos(), "cpuacct found under cpu,cpuacct");
        assertEquals(OptionalLong.of(20971520), s.memoryLimitBytes());
    }

    @Test
    void read_v1_inactiveAboveUsage_workingSetIsZero() throws IOException {
        file("memory" + CTR + "/memory.usage_in_bytes", "4096\n");
        file("memory" + CTR + "/memory.stat", "total_inactive_file 8192\n");

        CgroupSample s = stats().read(CTR).orElseThrow();

        assertEquals(0, s.workingSetBytes());
        assertEquals(0, s.cpuUsageNanos(), "no cpuacct cgroup: no data");
        assertEquals(OptionalLong.empty(), s.pids());
    }

    @Test
    void read_v2_readsUnifiedFiles() throws IOException {
        file("cgroup.controllers", "cpuset cpu io memory pids\n");
        file(CTR + "/cpu.stat", """
        usage_usec 1500
        user_usec 1000
        system_usec 500
        """);
        file(CTR + "/memory.current", "10485760\n");
        file(CTR + "/memory.max", "max\n");
        file(CTR + "/memory.stat", """
        anon 4194304
        file 3145728
        inactive_file 1048576
        pgfault 500
        pgmajfault 7
        """);
        file(CTR + "/pids.current", "2\n");

        CgroupSample s = stats().read(CTR).orElseThrow();

        assertTrue(stats().isUnified());
        assertEquals(1_500_000, s.cpuUsageNanos(), "usage_usec * 1000");
        assertEquals(10485760, s.memoryUsageBytes());
        assertEquals(10485760 - 1048576, s.workingSetBytes());
        assertEquals(4194304, s.rssBytes(), "anon, as cadvisor and containerd on v2");
        assertEquals(500, s.pageFaults());
        assertEquals(7, s.majorPageFaults());
        assertEquals(OptionalLong.empty(), s.memoryLimitBytes(), "\"max\"");
        assertEquals(OptionalLong.of(2), s.pids());
    }

    @Test
    void read_v2_limited() throws IOException {
        file("cgroup.controllers", "cpu memory\n");
        file(CTR + "/cpu.stat", "usage_usec 1\n");
        file(CTR + "/memory.max", "104857600\n");

        assertEquals(OptionalLong.of(104857600), stats().read(CTR).orElseThrow().memoryLimitBytes());
    }

    @Test
    void read_missingCgroup_isEmpty() throws IOException {
        v1Container("cpuacct", "1");
        assertEquals(Optional.empty(), stats().read("/kubepods/besteffort/pod123/created-not-started"));

        file("cgroup.controllers", "cpu memory\n");
        assertEquals(Optional.empty(), stats().read("/stevedore/pod/ctr"), "v2");
    }

    @Test
    void read_slashIsTheRootCgroup() throws IOException {
        file("cpuacct/cpuacct.usage", "42\n");
        file("memory/memory.usage_in_bytes", "4096\n");

        assertEquals(42, stats().read("/").orElseThrow().cpuUsageNanos());
        assertEquals(42, stats().read("").orElseThrow().cpuUsageNanos());
    }

    @Test
    void read_pathWithoutLeadingSlash_isRelativeToTheRoot() throws IOException {
        v1Container("cpuacct", "1");

        assertEquals(123456789, stats().read(CTR.substring(1)).orElseThrow().cpuUsageNanos());
    }

    @Test
    void read_dotDot_isRejected() {
        var e = assertThrows(IllegalArgumentException.class, () -> stats().read("/kubepods/../../etc"));
        assertTrue(e.getMessage().contains("/kubepods/../../etc"), e.getMessage());
    }

    @Test
    void read_counterBeyondLongMax_saturates() throws IOException {
        file("memory" + CTR + "/memory.usage_in_bytes", "18446744073709551615\n");

        assertEquals(Long.MAX_VALUE, stats().read(CTR).orElseThrow().memoryUsageBytes());
    }

    /** cgroup v2 under the systemd driver: a scope in the pod's slice, found from runc's form. */
    @Test
    void read_v2_systemdPaths_containerScopeAndPodSlice() throws IOException {
        String pod = "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice";
        file("cgroup.controllers", "cpu memory pids\n");
        file(pod + "/stevedore-abc.scope/cpu.stat", "usage_usec 250\n");
        file(pod + "/stevedore-abc.scope/memory.current", "4096\n");
        file(pod + "/stevedore-abc.scope/memory.max", "8192\n");
        file(pod + "/cpu.stat", "usage_usec 1000\n");
        file(pod + "/memory.current", "16384\n");

        CgroupSample ctr =
                stats().read("kubepods-besteffort-pod1.slice:stevedore:abc").orElseThrow();
        CgroupSample sandbox = stats().read("kubepods-besteffort-pod1.slice").orElseThrow();

        assertEquals(250_000, ctr.cpuUsageNanos());
        assertEquals(4096, ctr.memoryUsageBytes());
        assertEquals(OptionalLong.of(8192), ctr.memoryLimitBytes());
        assertEquals(1_000_000, sandbox.cpuUsageNanos());
        assertEquals(16384, sandbox.memoryUsageBytes());
        assertEquals(Optional.empty(), stats().read("kubepods-besteffort-pod1.slice:stevedore:gone"));
    }
}

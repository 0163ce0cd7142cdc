package io.stevedore.server.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.stevedore.cri.v1.HugepageLimit;
import io.stevedore.cri.v1.LinuxContainerResources;
import io.stevedore.oci.spec.Resources;
import io.stevedore.server.state.Dirs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CgroupfsPodCgroupsTest {
    private static final Path CGROUPFS = Path.of("/sys/fs/cgroup");

    @Test
    void join_pathWithDotDot_isRefusedBeforeAnythingIsMade(@TempDir Path tmp) throws Exception {
        var cgroups = new CgroupfsPodCgroups(tmp);
        Files.createDirectories(tmp.resolve("memory"));

        var e = assertThrows(IllegalArgumentException.class, () -> cgroups.join("/kubepods/../../etc", 1));

        assertTrue(e.getMessage().contains("\"..\""), e.getMessage());
        assertEquals(List.of(), Files.list(tmp.resolve("memory")).toList());
    }

    /** The real cgroupfs: every hierarchy (v1) or the unified one (v2), cpuset included. */
    @Test
    void join_realCgroupfs_movesTheProcessIntoEveryHierarchyAndRemoveDeletesIt() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "cgroups need root");
        assumeTrue(Files.isWritable(CGROUPFS), "cgroupfs is not writable here");
        String parent = "/stevedore-test-" + Dirs.newId().substring(0, 12);
        String path = parent + "/pause";
        var cgroups = new CgroupfsPodCgroups(CGROUPFS);
        Process p = new ProcessBuilder("cat").start();
        try {
            cgroups.join(path, (int) p.pid());

            List<String> lines = Files.readAllLines(Path.of("/proc", Long.toString(p.pid()), "cgroup"));
            assertFalse(lines.isEmpty());
            for (String line : lines) {
                if (line.contains(":name=") && !line.contains("name=systemd")) continue; // not ours to manage
                assertTrue(line.endsWith(":" + path), "in " + path + ": " + lines);
            }
        } finally {
            p.getOutputStream().close();
            p.destroyForcibly();
            assertTrue(p.waitFor(10, TimeUnit.SECONDS));
            cgroups.remove(path);
            cgroups.remove(parent);
        }
        try (var hs = Files.list(CGROUPFS)) {
            for (Path h : hs.toList()) {
                assertFalse(Files.exists(h.resolve(parent.substring(1))), "left in " + h);
            }
        }
    }

    /** A v2 tree under the systemd driver: a pod without a parent gets its own slice. */
    @Test
    void join_v2Systemd_ownSliceNestedAndRemoved(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("cgroup.controllers"), "cpu memory pids\n");
        var cgroups = new CgroupfsPodCgroups(tmp, true);
        String parent = cgroups.ownParent("f00d");

        cgroups.join(parent + "/f00d", 42);

        assertEquals("stevedore-f00d.slice", parent);
        Path pause = tmp.resolve("stevedore.slice/stevedore-f00d.slice/f00d");
        assertEquals("42", Files.readString(pause.resolve("cgroup.procs")));
        Files.delete(pause.resolve("cgroup.procs")); // the kernel's files go with the directory
        cgroups.remove(parent + "/f00d");
        cgroups.remove(parent);
        assertFalse(Files.exists(pause));
        assertFalse(Files.exists(tmp.resolve("stevedore.slice/stevedore-f00d.slice")));
    }

    @Test
    void ownParent_cgroupfs_isAPath() {
        assertEquals("/stevedore/f00d", new CgroupfsPodCgroups(Path.of("/nonexistent")).ownParent("f00d"));
    }

    private static final Resources LIMITS = new PodResources(
                    null,
                    LinuxContainerResources.newBuilder()
                            .setCpuShares(512)
                            .setCpuQuota(50_000)
                            .setCpuPeriod(100_000)
                            .setMemoryLimitInBytes(64 << 20)
                            .setCpusetCpus("0")
                            .addHugepageLimits(HugepageLimit.newBuilder()
                                    .setPageSize("2MB")
                                    .setLimit(4 << 20))
                            .build())
            .limits();

    /** A v1 fixture tree: {@code cpu,cpuacct} (and its {@code cpu} link), cpuset, memory, hugetlb. */
    @Test
    void set_v1Tree_writesEachControllersFilesInItsHierarchy(@TempDir Path tmp) throws Exception {
        Files.createDirectories(tmp.resolve("cpu,cpuacct"));
        Files.createSymbolicLink(tmp.resolve("cpu"), tmp.resolve("cpu,cpuacct"));
        Files.createDirectories(tmp.resolve("cpuset"));
        Files.writeString(tmp.resolve("cpuset/cpuset.cpus"), "0-3\n");
        Files.writeString(tmp.resolve("cpuset/cpuset.mems"), "0\n");
        Files.createDirectories(tmp.resolve("memory"));
        Files.createDirectories(tmp.resolve("hugetlb"));
        Files.createDirectories(tmp.resolve("pids"));

        new CgroupfsPodCgroups(tmp).set("/stevedore/pod1", LIMITS);

        Path cpu = tmp.resolve("cpu,cpuacct/stevedore/pod1");
        assertEquals("512", Files.readString(cpu.resolve("cpu.shares")));
        assertEquals("50000", Files.readString(cpu.resolve("cpu.cfs_quota_us")));
        assertEquals("100000", Files.readString(cpu.resolve("cpu.cfs_period_us")));
        assertEquals("0", Files.readString(tmp.resolve("cpuset/stevedore/pod1/cpuset.cpus")));
        assertEquals(
                Long.toString(64 << 20), Files.readString(tmp.resolve("memory/stevedore/pod1/memory.limit_in_bytes")));
        assertEquals(
                Long.toString(4 << 20),
                Files.readString(tmp.resolve("hugetlb/stevedore/pod1/hugetlb.2MB.limit_in_bytes")));
        assertFalse(Files.exists(tmp.resolve("pids/stevedore")), "nothing to set there");
    }

    @Test
    void set_v1NoLimit_writesMinusOne(@TempDir Path tmp) throws Exception {
        Files.createDirectories(tmp.resolve("cpu,cpuacct"));
        Files.createDirectories(tmp.resolve("memory"));
        var none = new PodResources(null, null).limits();

        new CgroupfsPodCgroups(tmp).set("/stevedore/pod1", none);

        assertEquals("-1", Files.readString(tmp.resolve("memory/stevedore/pod1/memory.limit_in_bytes")));
        assertEquals("-1", Files.readString(tmp.resolve("cpu,cpuacct/stevedore/pod1/cpu.cfs_quota_us")));
        assertFalse(Files.exists(tmp.resolve("cpu,cpuacct/stevedore/pod1/cpu.shares")), "zero shares: left alone");
    }

    /** A v2 fixture tree: one hierarchy; the controllers written are enabled from the root down. */
    @Test
    void set_v2Tree_writesTheUnifiedFilesAndEnablesTheirControllers(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("cgroup.controllers"), "cpuset cpu io memory pids\n");

        new CgroupfsPodCgroups(tmp).set("/stevedore/pod1", LIMITS);

        Path pod = tmp.resolve("stevedore/pod1");
        assertEquals(Long.toString(CgroupV2Limits.weight(512)), Files.readString(pod.resolve("cpu.weight")));
        assertEquals("50000 100000", Files.readString(pod.resolve("cpu.max")));
        assertEquals("0", Files.readString(pod.resolve("cpuset.cpus")));
        assertEquals(Long.toString(64 << 20), Files.readString(pod.resolve("memory.max")));
        assertEquals("+cpu +cpuset +memory", Files.readString(tmp.resolve("cgroup.subtree_control")));
        assertEquals("+cpu +cpuset +memory", Files.readString(tmp.resolve("stevedore/cgroup.subtree_control")));
    }

    @Test
    void set_v2NoLimit_writesMax() throws Exception {
        var files = CgroupV2Limits.files(new PodResources(null, null).limits());

        assertEquals("max", files.get("memory.max"));
        assertEquals("max", files.get("cpu.max"));
        assertEquals(1L, CgroupV2Limits.weight(2));
        assertEquals(10_000L, CgroupV2Limits.weight(262_144));
    }
}

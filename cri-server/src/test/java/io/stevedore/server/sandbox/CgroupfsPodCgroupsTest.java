package io.stevedore.server.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
}

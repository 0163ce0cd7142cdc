package io.stevedore.server.container.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Host facts on fixture cgroup trees: v2 (most production nodes), v1 and hybrid. */
class HostProbeTest {
    @TempDir
    Path root;

    private void file(String rel) throws IOException {
        Path f = root.resolve(rel);
        Files.createDirectories(f.getParent());
        Files.writeString(f, "max\n");
    }

    private static final String V2_SERVICE = "0::/system.slice/stevedore.service\n";

    @Test
    void v2_swapInOwnCgroup_available() throws IOException {
        file("cgroup.controllers");
        file("system.slice/stevedore.service/memory.swap.max");

        assertTrue(HostProbe.cgroupV2(root));
        assertTrue(HostProbe.swapLimitAvailable(root, V2_SERVICE));
    }

    @Test
    void v2_noSwapAccounting_notAvailable() throws IOException {
        file("cgroup.controllers");
        file("system.slice/stevedore.service/memory.max");

        assertFalse(HostProbe.swapLimitAvailable(root, V2_SERVICE));
    }

    @Test
    void v2_daemonInTheRootCgroup_asksAChild() throws IOException {
        file("cgroup.controllers");
        file("init.scope/memory.swap.max");

        assertTrue(HostProbe.swapLimitAvailable(root, "0::/\n"));
    }

    @Test
    void v1_memswDecides() throws IOException {
        file("memory/memory.limit_in_bytes");
        assertFalse(HostProbe.swapLimitAvailable(root, "4:memory:/\n"));

        file("memory/memory.memsw.limit_in_bytes");
        assertTrue(HostProbe.swapLimitAvailable(root, "4:memory:/\n"));
        assertFalse(HostProbe.cgroupV2(root));
    }

    @Test
    void hybrid_isV1_unifiedHoldsNoControllers() throws IOException {
        file("unified/cgroup.controllers");
        file("memory/memory.memsw.limit_in_bytes");

        assertFalse(HostProbe.cgroupV2(root), "a hybrid host's v2 mount is not the controllers' home");
        assertTrue(HostProbe.swapLimitAvailable(root, "0::/user.slice\n4:memory:/user.slice\n"));
    }

    @Test
    void unifiedPath_ofProcCgroup() {
        assertEquals("/system.slice/x.scope", HostProbe.unifiedPath("1:name=systemd:/a\n0::/system.slice/x.scope\n"));
        assertEquals("/", HostProbe.unifiedPath("4:memory:/a\n"));
    }
}

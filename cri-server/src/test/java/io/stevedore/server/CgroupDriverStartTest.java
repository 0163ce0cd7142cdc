package io.stevedore.server;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CgroupDriverStartTest {
    @Test
    void systemdDriver_withoutSystemd_refusesToStartSayingWhy(@TempDir Path tmp) {
        var e = assertThrows(
                DaemonStartException.class,
                () -> CriDaemon.requireSystemdIfAsked(DaemonConfig.CgroupDriver.SYSTEMD, tmp.resolve("system")));

        assertTrue(e.getMessage().contains("cgroup_driver = \"systemd\" but systemd is not running"), e.getMessage());
        assertTrue(e.getMessage().contains("cgroupfs"), e.getMessage());
    }

    @Test
    void systemdDriver_withSystemd_starts(@TempDir Path tmp) throws Exception {
        CriDaemon.requireSystemdIfAsked(
                DaemonConfig.CgroupDriver.SYSTEMD, Files.createDirectory(tmp.resolve("system")));
    }

    @Test
    void cgroupfsDriver_needsNoSystemd(@TempDir Path tmp) throws Exception {
        CriDaemon.requireSystemdIfAsked(DaemonConfig.CgroupDriver.CGROUPFS, tmp.resolve("system"));
    }

    @Test
    void thisHost_withoutSystemd_systemdDriverRefused() {
        org.junit.jupiter.api.Assumptions.assumeFalse(Files.isDirectory(CriDaemon.SYSTEMD_RUNNING));
        assertThrows(
                DaemonStartException.class,
                () -> new CriDaemon(new DaemonConfig(
                                Path.of("/nonexistent/s.sock"),
                                "",
                                Path.of("/nonexistent/root"),
                                Path.of("/nonexistent/run"),
                                DaemonConfig.LogLevel.INFO,
                                java.util.Optional.empty(),
                                java.time.Duration.ofSeconds(1),
                                DaemonConfig.CgroupDriver.SYSTEMD,
                                "runc",
                                DaemonConfig.defaults().runtimeHandlers(),
                                DaemonConfig.defaults().criuPath(),
                                DaemonConfig.defaults().cniConfDir(),
                                DaemonConfig.defaults().cniBinDirs(),
                                DaemonConfig.defaults().images(),
                                DaemonConfig.defaults().stream(),
                                DaemonConfig.defaults().limits()))
                        .start());
    }
}

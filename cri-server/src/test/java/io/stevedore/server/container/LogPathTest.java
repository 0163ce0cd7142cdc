package io.stevedore.server.container;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.server.error.CriException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LogPathTest {
    @ParameterizedTest
    @ValueSource(strings = {"", "c.log", "nginx/0.log", "a/b/c/3.log", "weird name.log"})
    void checkLogPath_beneathThePodLogDirectory_isAccepted(String p) {
        assertDoesNotThrow(() -> ContainerCreator.checkLogPath(p));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "/etc/cron.d/x",
                "../x.log",
                "a/../../x.log",
                "a//b.log",
                "./a.log",
                "a/.",
                "a/",
                "a\nb.log",
                "a\u0000b"
            })
    void checkLogPath_escapingOrOdd_isInvalidArgument(String p) {
        assertThrows(CriException.InvalidArgument.class, () -> ContainerCreator.checkLogPath(p));
    }

    @Test
    void logPathBeneath_makesTheDirectories(@TempDir Path tmp) throws Exception {
        Path logDir = tmp.resolve("pods/ns_p_uid");
        Path lp = ContainerCreator.logPathBeneath(logDir, "nginx/0.log");
        assertEquals(logDir.resolve("nginx/0.log"), lp);
        assertTrue(Files.isDirectory(logDir.resolve("nginx")));
    }

    @Test
    void logPathBeneath_aPlantedLinkAtTheFile_isRefused(@TempDir Path tmp) throws Exception {
        Path logDir = Files.createDirectories(tmp.resolve("pod/c"));
        Files.createSymbolicLink(logDir.resolve("0.log"), tmp.resolve("elsewhere"));
        var e = assertThrows(
                CriException.FailedPrecondition.class,
                () -> ContainerCreator.logPathBeneath(tmp.resolve("pod"), "c/0.log"));
        assertEquals("create container: log_path \"c/0.log\": c/0.log is a symbolic link", e.getMessage());
    }

    @Test
    void logPathBeneath_aPlantedLinkAtADirectory_isRefused_andNothingIsMadeThrough(@TempDir Path tmp) throws Exception {
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Path logDir = Files.createDirectories(tmp.resolve("pod"));
        Files.createSymbolicLink(logDir.resolve("c"), outside);
        assertThrows(
                CriException.FailedPrecondition.class, () -> ContainerCreator.logPathBeneath(logDir, "c/sub/0.log"));
        assertFalse(Files.exists(outside.resolve("sub")));
    }
}

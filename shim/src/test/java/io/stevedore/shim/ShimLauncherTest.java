package io.stevedore.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ShimLauncherTest {
    private static ShimSpec spec(boolean terminal, boolean stdin) {
        return new ShimSpec(
                "abc",
                Path.of("/run/b"),
                Path.of("/usr/sbin/runc"),
                Path.of("/run/runc"),
                Path.of("/var/log/pods/p/c/0.log"),
                Path.of("/run/exits"),
                Path.of("/run/s/abc"),
                Path.of("/run/s/abc/pid"),
                terminal,
                stdin);
    }

    @Test
    void command_allFlags_inDocumentedOrder() {
        var launcher = new ShimLauncher(Path.of("/bin/stevedore-shim"), Duration.ofSeconds(1));
        assertEquals(
                List.of(
                        "/bin/stevedore-shim",
                        "--id",
                        "abc",
                        "--bundle",
                        "/run/b",
                        "--runtime",
                        "/usr/sbin/runc",
                        "--runtime-root",
                        "/run/runc",
                        "--log-path",
                        "/var/log/pods/p/c/0.log",
                        "--exit-dir",
                        "/run/exits",
                        "--socket-dir",
                        "/run/s/abc",
                        "--pid-file",
                        "/run/s/abc/pid",
                        "--shim-log",
                        "/run/s/abc/shim.log",
                        "--terminal",
                        "--stdin",
                        "--sync-fd",
                        "1"),
                launcher.command(spec(true, true)));
    }

    @Test
    void spec_relativePathOrBadId_isRejected() {
        assertThrows(
                IllegalArgumentException.class,
                () -> new ShimSpec(
                        "a/b",
                        Path.of("/b"),
                        Path.of("/r"),
                        Path.of("/rr"),
                        Path.of("/l"),
                        Path.of("/e"),
                        Path.of("/s"),
                        Path.of("/p"),
                        false,
                        false));
        assertThrows(
                IllegalArgumentException.class,
                () -> new ShimSpec(
                        "a",
                        Path.of("b"),
                        Path.of("/r"),
                        Path.of("/rr"),
                        Path.of("/l"),
                        Path.of("/e"),
                        Path.of("/s"),
                        Path.of("/p"),
                        false,
                        false));
    }

    @Test
    void start_missingShimBinary_throwsShimException() {
        var launcher = new ShimLauncher(Path.of("/nonexistent/stevedore-shim"), Duration.ofSeconds(5));
        assertThrows(ShimException.class, () -> launcher.start(spec(false, false)));
    }
}

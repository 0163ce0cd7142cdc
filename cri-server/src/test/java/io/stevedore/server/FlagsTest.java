package io.stevedore.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class FlagsTest {
    @Test
    void parse_bothSpellings_areAccepted() throws ConfigException {
        var f = Flags.parse("--socket", "/tmp/a.sock", "--root=/tmp/r", "--log-level", "DEBUG");
        assertEquals(Optional.of(Path.of("/tmp/a.sock")), f.socket());
        assertEquals(Optional.of(Path.of("/tmp/r")), f.root());
        assertEquals(Optional.of(DaemonConfig.LogLevel.DEBUG), f.logLevel());
    }

    @Test
    void parse_unknownFlag_fails() {
        var e = assertThrows(ConfigException.class, () -> Flags.parse("--sockett=/x"));
        assertEquals("unknown flag --sockett=/x (see --help)", e.getMessage());
    }

    @Test
    void parse_missingValue_fails() {
        var e = assertThrows(ConfigException.class, () -> Flags.parse("--root"));
        assertEquals("--root: needs a value", e.getMessage());
    }

    @Test
    void parse_badLevel_fails() {
        var e = assertThrows(ConfigException.class, () -> Flags.parse("--log-level=chatty"));
        assertTrue(e.getMessage().startsWith("--log-level: must be one of"), e.getMessage());
    }

    @Test
    void applyTo_runRootOnly_movesDefaultSocketAlong() throws ConfigException {
        var c = Flags.parse("--run-root", "/tmp/run").applyTo(DaemonConfig.defaults());
        assertEquals(Path.of("/tmp/run/stevedore.sock"), c.socket());
        assertEquals(Path.of("/tmp/run"), c.runRoot());
        assertEquals(Path.of("/var/lib/stevedore"), c.root());
    }

    @Test
    void applyTo_explicitSocket_wins() throws ConfigException {
        var c = Flags.parse("--run-root", "/tmp/run", "--socket", "/tmp/x.sock").applyTo(DaemonConfig.defaults());
        assertEquals(Path.of("/tmp/x.sock"), c.socket());
    }
}

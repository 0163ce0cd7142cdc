package io.stevedore.server.container.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.server.error.CriException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CriuCheckTest {
    @TempDir
    Path tmp;

    /** A criu that counts its runs in {@code runs} and then runs {@code body}. */
    private Path criu(String body) throws Exception {
        Path bin = Files.createDirectories(tmp.resolve("bin")).resolve("criu");
        Files.writeString(bin, "#!/bin/sh\necho run >> '" + tmp.resolve("runs") + "'\n" + body + "\n");
        Files.setPosixFilePermissions(bin, PosixFilePermissions.fromString("rwxr-xr-x"));
        return bin;
    }

    private long runs() throws Exception {
        return Files.exists(tmp.resolve("runs"))
                ? Files.readAllLines(tmp.resolve("runs")).size()
                : 0;
    }

    @Test
    void require_checkPasses_isTheBinaryAndChecksOnce() throws Exception {
        Path bin = criu("[ \"$1\" = check ] && echo 'Looks good.' && exit 0; exit 2");
        var check = new CriuCheck(bin.toString(), Duration.ofSeconds(30));

        assertEquals(bin, check.require());
        assertEquals(bin, check.require());
        assertEquals(1, runs());
    }

    @Test
    void require_checkFails_isFailedPreconditionQuotingCriu_andIsNotRerun() throws Exception {
        Path bin = criu("""
        echo 'Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds' >&2
        echo 'Error (criu/kerndat.c:1615): kerndat_vdso_fill_symtable failed when initializing kerndat.' >&2
        exit 1""");
        var check = new CriuCheck(bin.toString(), Duration.ofSeconds(30));

        var e = assertThrows(CriException.FailedPrecondition.class, check::require);
        assertThrows(CriException.FailedPrecondition.class, check::require);

        assertTrue(e.getMessage().contains("\"" + bin + " check\" failed on this kernel"), e.getMessage());
        assertTrue(
                e.getMessage().contains("vdso: Unexpected rt vDSO area bounds; Error (criu/kerndat.c:1615)"),
                e.getMessage());
        assertTrue(e.getMessage().contains("runtime.criu_path"), e.getMessage());
        assertEquals(1, runs());
    }

    @Test
    void require_notInstalled_isFailedPreconditionSayingSo() {
        var check = new CriuCheck(tmp.resolve("nowhere/criu").toString(), Duration.ofSeconds(30));

        var e = assertThrows(CriException.FailedPrecondition.class, check::require);

        assertTrue(
                e.getMessage().startsWith("checkpointing needs CRIU: CRIU " + tmp.resolve("nowhere/criu")),
                e.getMessage());
        assertTrue(e.getMessage().contains("install the criu package"), e.getMessage());
    }

    @Test
    void require_hungCheck_failsAfterTheTimeout() throws Exception {
        Path bin = criu("exec sleep 1000");
        var check = new CriuCheck(bin.toString(), Duration.ofMillis(300));

        var e = assertThrows(CriException.FailedPrecondition.class, check::require);

        assertTrue(e.getMessage().contains("did not finish in PT0.3S"), e.getMessage());
    }
}

package io.stevedore.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExitFileTest {
    @TempDir
    Path dir;

    @Test
    void read_noFile_isEmpty() throws IOException {
        assertEquals(Optional.empty(), ExitFile.read(dir, "c1"));
    }

    @Test
    void read_code_isNotOomKilled() throws IOException {
        Files.writeString(dir.resolve("c1"), "3");
        assertEquals(Optional.of(new ExitStatus(3, false)), ExitFile.read(dir, "c1"));
    }

    @Test
    void read_codeWithOomMarker_isOomKilled() throws IOException {
        Files.writeString(dir.resolve("c1"), "137\n");
        Files.writeString(dir.resolve("c1.oom"), "");
        assertEquals(Optional.of(new ExitStatus(137, true)), ExitFile.read(dir, "c1"));
    }

    @Test
    void read_garbage_throwsNamingTheFile() {
        assertThrows(IOException.class, () -> {
            Files.writeString(dir.resolve("c1"), "exited");
            ExitFile.read(dir, "c1");
        });
    }

    @Test
    void remove_deletesBothAndIsIdempotent() throws IOException {
        Files.writeString(dir.resolve("c1"), "0");
        Files.writeString(dir.resolve("c1.oom"), "");
        ExitFile.remove(dir, "c1");
        ExitFile.remove(dir, "c1");
        assertEquals(Optional.empty(), ExitFile.read(dir, "c1"));
        assertEquals(false, Files.exists(dir.resolve("c1.oom")));
    }
}

package io.stevedore.server.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessDescriptorsTest {
    @TempDir
    Path proc;

    private void fd(long pid, int fd, String target) throws IOException {
        Path dir = Files.createDirectories(proc.resolve(pid + "/fd"));
        Files.createSymbolicLink(dir.resolve(Integer.toString(fd)), Path.of(target));
    }

    @Test
    void count_sumsDescriptorsAndSocketsOfEveryProcess() throws IOException {
        fd(1, 0, "/dev/null");
        fd(1, 1, "pipe:[100]");
        fd(1, 3, "socket:[200]");
        fd(2, 0, "/dev/null");
        fd(2, 5, "socket:[201]");

        assertEquals(new ProcessDescriptors(5, 2), ProcessDescriptors.count(proc, List.of(1L, 2L)));
    }

    @Test
    void count_goneProcess_countsNothing() throws IOException {
        fd(1, 0, "/dev/null");

        assertEquals(new ProcessDescriptors(1, 0), ProcessDescriptors.count(proc, List.of(1L, 99L)));
    }
}

package io.stevedore.cni.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The guarantee of oci-runtime's AtomicFiles, which this class copies; see AtomicFilesTest there. */
class AtomicFilesTest {
    @TempDir
    Path dir;

    @Test
    void write_existingFile_isReplacedAndNoTempIsLeft() throws IOException {
        Path f = Files.writeString(dir.resolve("10-net.conflist"), "old, and longer than the new");

        AtomicFiles.write(f, "new".getBytes(UTF_8), 0644);

        assertEquals("new", Files.readString(f));
        assertEquals(List.of(f), entries());
    }

    @ParameterizedTest
    @ValueSource(ints = {0600, 0644, 0666, 0})
    void write_mode_isExactlyTheOneAsked(int mode) throws IOException {
        Path f = dir.resolve("f");

        AtomicFiles.write(f, new byte[] {1}, mode);

        assertEquals(AtomicFiles.permissions(mode), Files.getPosixFilePermissions(f));
    }

    @Test
    void permissions_octal_mapsBitByBit() {
        assertEquals(PosixFilePermissions.fromString("rw-r-----"), AtomicFiles.permissions(0640));
        assertThrows(IllegalArgumentException.class, () -> AtomicFiles.permissions(01777));
    }

    @Test
    void write_renameFails_leavesNoTempFile() throws IOException {
        Path f = Files.createDirectories(dir.resolve("a-directory-with-a-child"));
        Files.writeString(f.resolve("child"), "x");

        assertThrows(IOException.class, () -> AtomicFiles.write(f, new byte[] {1}, 0644));

        assertEquals(List.of(f), entries());
    }

    @Test
    void write_missingDirectory_isNotCreated() {
        Path f = dir.resolve("no-such-dir/x");

        assertThrows(NoSuchFileException.class, () -> AtomicFiles.write(f, new byte[] {1}, 0644));

        assertFalse(Files.exists(f.getParent()));
    }

    @Test
    void write_50ConcurrentWriters_leaveOneWritersWholeContent() throws Exception {
        Path f = dir.resolve("net-abc-eth0");
        Set<String> contents = new HashSet<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> all = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                String content = ("writer " + i + ";").repeat(2_000 + i);
                contents.add(content);
                all.add(pool.submit(() -> {
                    AtomicFiles.write(f, content.getBytes(UTF_8), 0600);
                    return null;
                }));
            }
            for (Future<?> w : all) {
                w.get();
            }
        }
        assertTrue(contents.contains(Files.readString(f)), "the target is one writer's whole content");
        assertEquals(List.of(f), entries());
    }

    private List<Path> entries() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }
}

package io.stevedore.server.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.stevedore.oci.linux.LinuxSyscalls;
import io.stevedore.oci.linux.SyscallException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrashTest {
    @TempDir
    Path tmp;

    private Path tree(String name) throws IOException {
        Path t = Files.createDirectories(tmp.resolve(name).resolve("upper/etc"));
        Files.writeString(t.resolve("hosts"), "127.0.0.1 localhost\n");
        Files.writeString(tmp.resolve(name).resolve("config.json"), "{}");
        return tmp.resolve(name);
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }

    @Test
    void discard_takesTheTreeAwayAtOnceAndEmptiesTheTrashSoon() throws Exception {
        var trash = new Trash(tmp.resolve("trash"));
        Path t = tree("ctr1");

        trash.discard(t);

        assertFalse(Files.exists(t), "gone from its place when discard returns");
        Awaitility.await()
                .atMost(Duration.ofSeconds(10))
                .until(() -> list(tmp.resolve("trash")).isEmpty());
    }

    @Test
    void discard_sameNameTwice_bothDeleted() throws Exception {
        var trash = new Trash(tmp.resolve("trash"));

        trash.discard(tree("ctr1"));
        trash.discard(tree("ctr1"));

        assertFalse(Files.exists(tmp.resolve("ctr1")));
        Awaitility.await()
                .atMost(Duration.ofSeconds(10))
                .until(() -> list(tmp.resolve("trash")).isEmpty());
    }

    @Test
    void discard_missingPath_isANoOp() throws Exception {
        var trash = new Trash(tmp.resolve("trash"));

        trash.discard(tmp.resolve("no/such/tree"));

        assertEquals(List.of(), list(tmp.resolve("trash")));
    }

    @Test
    void newTrash_deletesWhatAnEarlierRunLeft() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("trash"));
        Files.move(tree("left-by-a-crash"), dir.resolve("left-by-a-crash.7"));

        new Trash(dir);

        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> list(dir).isEmpty());
    }

    @Test
    void discard_somethingMountedInside_refusesAndLeavesTheTreeInPlace() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "mounting needs root");
        var trash = new Trash(tmp.resolve("trash"));
        Path t = tree("ctr1");
        Path mnt = Files.createDirectories(t.resolve("rootfs"));
        try {
            new LinuxSyscalls().mount("tmpfs", mnt, "tmpfs", 0, "size=1m");
        } catch (SyscallException e) {
            assumeTrue(false, "cannot mount tmpfs here: " + e.getMessage());
        }
        try {
            var e = assertThrows(IOException.class, () -> trash.discard(t));

            assertTrue(e.getMessage().startsWith("refusing to delete"), e.getMessage());
            assertTrue(Files.exists(t.resolve("config.json")), "left in place");
            assertEquals(List.of(), list(tmp.resolve("trash")));
        } finally {
            new LinuxSyscalls().umount2(mnt, 2);
        }
    }
}

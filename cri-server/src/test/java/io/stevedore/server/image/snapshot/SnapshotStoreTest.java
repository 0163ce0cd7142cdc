package io.stevedore.server.image.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.oci.linux.Syscalls;
import io.stevedore.server.image.FileTrees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotStoreTest {
    static final String A = "sha256:" + "a".repeat(64);

    @TempDir
    Path root;

    SnapshotStore store;

    /** Records syncfs and fsync with what the committed name held at that moment. */
    final List<String> syncs = new CopyOnWriteArrayList<>();

    final Syscalls sys = new Syscalls() {
        @Override
        public void syncfs(Path path) {
            syncs.add("syncfs " + root.relativize(path).toString().replaceAll("-[0-9]+$", "") + " hello="
                    + Files.exists(path.resolve("fs/hello")) + " committed=" + store.has(A));
        }

        @Override
        public void fsync(Path path) {
            syncs.add("fsync " + path.equals(root) + " committed=" + store.has(A));
        }

        @Override
        public void mknod(Path path, int mode, int major, int minor) {}

        @Override
        public void chmod(Path path, int mode) {}

        @Override
        public void utimensat(Path path, java.time.Instant atime, java.time.Instant mtime) {}

        @Override
        public void lsetxattr(Path path, String name, byte[] value) {}
    };

    @BeforeEach
    void open() throws IOException {
        store = new SnapshotStore(root, sys);
    }

    @Test
    void prepare_syncsTreeBeforeRename_andDirectoryAfter() throws Exception {
        store.prepare(A, dir -> Files.writeString(dir.resolve("hello"), "hi"));
        assertEquals(
                List.of("syncfs .tmp-" + "a".repeat(64) + " hello=true committed=false", "fsync true committed=true"),
                syncs);
    }

    @Test
    void prepare_new_unpacksOnceThenReuses() throws Exception {
        var calls = new AtomicInteger();
        Path fs = store.prepare(A, dir -> {
            calls.incrementAndGet();
            Files.writeString(dir.resolve("hello"), "hi");
        });
        assertEquals(root.resolve("a".repeat(64) + "/fs"), fs);
        assertEquals("hi", Files.readString(fs.resolve("hello")));
        store.prepare(A, dir -> calls.incrementAndGet());
        assertEquals(1, calls.get());
        assertEquals(List.of(A), store.list());
    }

    @Test
    void prepare_unpackFails_leavesNothing() throws IOException {
        assertThrows(
                IOException.class,
                () -> store.prepare(A, dir -> {
                    Files.writeString(dir.resolve("half"), "x");
                    throw new IOException("layer is truncated");
                }));
        assertFalse(store.has(A));
        try (var all = Files.list(root)) {
            assertEquals(0, all.count(), "no temporary directory left");
        }
    }

    @Test
    void remove_dropsTreeWithoutFollowingLinks() throws Exception {
        Path outside = Files.createDirectory(root.resolve("..").normalize().resolve(root.getFileName() + "-outside"));
        try {
            Files.writeString(outside.resolve("keep"), "precious");
            store.prepare(A, dir -> Files.createSymbolicLink(dir.resolve("link"), outside));
            store.remove(A);
            assertFalse(store.has(A));
            assertTrue(Files.exists(outside.resolve("keep")), "link target untouched");
            store.remove(A); // idempotent
        } finally {
            FileTrees.delete(outside);
        }
    }

    @Test
    void reopen_cleansInterruptedWork() throws IOException {
        Files.createDirectories(root.resolve(".tmp-" + "b".repeat(64) + "-1/fs/x"));
        Files.createDirectories(root.resolve(".del-" + "c".repeat(64) + "-2/fs"));
        new SnapshotStore(root, sys);
        try (var all = Files.list(root)) {
            assertEquals(0, all.count());
        }
    }

    @Test
    void badChainId_isRejected() {
        assertThrows(IllegalArgumentException.class, () -> store.fsPath("sha256:../../etc"));
    }
}

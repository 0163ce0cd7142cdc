package io.stevedore.server.image.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.server.image.FileTrees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotStoreTest {
    static final String A = "sha256:" + "a".repeat(64);

    @TempDir
    Path root;

    SnapshotStore store;

    @BeforeEach
    void open() throws IOException {
        store = new SnapshotStore(root);
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
        new SnapshotStore(root);
        try (var all = Files.list(root)) {
            assertEquals(0, all.count());
        }
    }

    @Test
    void badChainId_isRejected() {
        assertThrows(IllegalArgumentException.class, () -> store.fsPath("sha256:../../etc"));
    }
}

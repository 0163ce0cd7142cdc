package io.stevedore.server.image.content;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContentStoreTest {
    @TempDir
    Path root;

    ContentStore store;
    final byte[] data = "hello, layer".getBytes(StandardCharsets.UTF_8);
    final String digest = digest(data);

    @BeforeEach
    void open() throws IOException {
        store = new ContentStore(root);
    }

    static String digest(byte[] b) {
        try {
            return "sha256:"
                    + HexFormat.of()
                            .formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void ingest_matchingContent_isStoredReadOnly() throws Exception {
        Path p = store.ingest(digest, data.length, () -> new ByteArrayInputStream(data));
        assertArrayEquals(data, Files.readAllBytes(p));
        assertTrue(store.has(digest));
        assertEquals(List.of(digest), store.list());
        assertEquals(
                "r--r--r--", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(p)));
        assertEquals(0, Files.list(root.resolve("ingest")).count(), "no ingest leftovers");
    }

    @Test
    void ingest_digestMismatch_storesNothing() {
        String other = digest("other".getBytes(StandardCharsets.UTF_8));
        var e = assertThrows(
                ContentException.class, () -> store.ingest(other, data.length, () -> new ByteArrayInputStream(data)));
        assertEquals("blob " + other + ": digest mismatch: expected " + other + ", got " + digest, e.getMessage());
        assertFalse(store.has(other));
        assertFalse(store.has(digest));
    }

    @Test
    void ingest_truncated_storesNothing() throws IOException {
        var e = assertThrows(
                ContentException.class,
                () -> store.ingest(digest, data.length + 10, () -> new ByteArrayInputStream(data)));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        assertEquals(0, Files.list(root.resolve("ingest")).count());
    }

    @Test
    void ingest_longerThanDescriptor_fails() {
        var e = assertThrows(
                ContentException.class, () -> store.ingest(digest, 3, () -> new ByteArrayInputStream(data)));
        assertTrue(e.getMessage().contains("larger than the 3 bytes"), e.getMessage());
    }

    @Test
    void ingest_sourceFails_cleansUp() throws IOException {
        assertThrows(
                IOException.class,
                () -> store.ingest(digest, data.length, () -> {
                    throw new IOException("connection reset");
                }));
        assertFalse(store.has(digest));
        assertEquals(0, Files.list(root.resolve("ingest")).count());
    }

    @Test
    void ingest_diskFullMidBlob_namesTheBlobAndRemovesTheHalfWrittenFile() throws IOException {
        var seen = new ArrayList<Long>();
        InputStream halfThenFull = new InputStream() {
            int reads;

            @Override
            public int read() {
                throw new UnsupportedOperationException();
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (reads++ == 0) {
                    b[off] = data[0];
                    return 1;
                }
                try (var partial = Files.list(root.resolve("ingest"))) {
                    for (Path p : partial.toList()) {
                        seen.add(Files.size(p));
                    }
                }
                throw new IOException("No space left on device");
            }
        };

        var e = assertThrows(IOException.class, () -> store.ingest(digest, data.length, () -> halfThenFull));

        assertEquals(List.of(1L), seen, "the first byte had reached the ingest file");
        assertEquals(
                "write blob " + digest + " into " + root.resolve("ingest") + ": No space left on device",
                e.getMessage());
        assertFalse(store.has(digest));
        try (var left = Files.list(root.resolve("ingest"))) {
            assertEquals(0, left.count());
        }
    }

    @Test
    void ingest_concurrentSameDigest_downloadsOnce() throws Exception {
        var opened = new AtomicInteger();
        var release = new CountDownLatch(1);
        ContentStore.Source slow = () -> {
            opened.incrementAndGet();
            return new InputStream() {
                final InputStream in = new ByteArrayInputStream(data);

                @Override
                public int read() throws IOException {
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        throw new IOException(e);
                    }
                    return in.read();
                }
            };
        };
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Path>> results = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                results.add(pool.submit(() -> store.ingest(digest, data.length, slow)));
            }
            await().until(() -> opened.get() >= 1);
            release.countDown();
            for (var r : results) {
                assertArrayEquals(data, Files.readAllBytes(r.get()));
            }
        }
        assertEquals(1, opened.get(), "one download for four callers");
        assertEquals(1, store.list().size());
    }

    @Test
    void reopen_removesInterruptedIngests() throws IOException {
        Files.writeString(root.resolve("ingest/abc-1"), "partial");
        new ContentStore(root);
        assertEquals(0, Files.list(root.resolve("ingest")).count());
    }

    @Test
    void anyCall_badDigest_isRejected() {
        assertThrows(IllegalArgumentException.class, () -> store.path("sha256:xyz"));
        assertThrows(
                IllegalArgumentException.class, () -> store.ingest("md5:00", 1, () -> InputStream.nullInputStream()));
    }
}

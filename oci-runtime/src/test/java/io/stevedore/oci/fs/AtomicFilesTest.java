package io.stevedore.oci.fs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.oci.fs.AtomicFiles.Durability;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class AtomicFilesTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Durability.class)
    void write_newFile_holdsTheBytesAndNothingElseIsLeft(Durability durability) throws IOException {
        Path f = dir.resolve("a.json");

        AtomicFiles.write(f, "{}".getBytes(UTF_8), 0644, durability);

        assertEquals("{}", Files.readString(f));
        assertEquals(List.of(f), entries());
    }

    @Test
    void write_existingFile_isReplaced() throws IOException {
        Path f = Files.writeString(dir.resolve("a.json"), "old content, longer than the new one");

        AtomicFiles.write(f, "new".getBytes(UTF_8), 0644);

        assertEquals("new", Files.readString(f));
        assertEquals(List.of(f), entries());
    }

    /** 0666 and 0777 would lose bits to the usual umask (022) if the helper trusted open(2). */
    @ParameterizedTest
    @ValueSource(ints = {0600, 0644, 0444, 0640, 0666, 0777, 0})
    void write_mode_isExactlyTheOneAsked(int mode) throws IOException {
        Path f = Files.writeString(dir.resolve("f"), "old");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-rw-rw-"));

        AtomicFiles.write(f, new byte[] {1}, mode);

        assertEquals(AtomicFiles.permissions(mode), Files.getPosixFilePermissions(f));
    }

    @Test
    void permissions_octal_mapsBitByBit() {
        assertEquals(PosixFilePermissions.fromString("rw-r-----"), AtomicFiles.permissions(0640));
        assertEquals(PosixFilePermissions.fromString("r-x---rwx"), AtomicFiles.permissions(0507));
        assertThrows(IllegalArgumentException.class, () -> AtomicFiles.permissions(04755));
        assertThrows(IllegalArgumentException.class, () -> AtomicFiles.permissions(-1));
    }

    @Test
    void write_streamed_mayCloseTheStreamLikeJackson() throws IOException {
        Path f = dir.resolve("s.json");

        AtomicFiles.write(f, 0600, out -> {
            out.write("hello ".getBytes(UTF_8));
            out.write('w');
            out.write("orld".getBytes(UTF_8), 0, 4);
            out.close();
        });

        assertEquals("hello world", Files.readString(f));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        assertEquals(List.of(f), entries());
    }

    @ParameterizedTest
    @EnumSource(Durability.class)
    void write_callbackFails_leavesTargetAsItWasAndNoTempFile(Durability durability) throws IOException {
        Path f = Files.writeString(dir.resolve("a.json"), "old");
        var boom = new IOException("injected");

        IOException e = assertThrows(
                IOException.class,
                () -> AtomicFiles.write(f, 0644, durability, out -> {
                    out.write(new byte[100_000]); // past the buffer: part of it is in the temp file already
                    throw boom;
                }));

        assertSame(boom, e);
        assertEquals("old", Files.readString(f));
        assertEquals(List.of(f), entries());
    }

    @Test
    void write_callbackThrowsUnchecked_leavesNoTempFile() throws IOException {
        Path f = dir.resolve("a.json");

        assertThrows(
                UncheckedIOException.class,
                () -> AtomicFiles.write(f, 0644, out -> {
                    out.write(1);
                    throw new UncheckedIOException(new IOException("injected"));
                }));

        assertEquals(List.of(), entries());
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
        Path f = dir.resolve("no-such-dir/a.json");

        assertThrows(NoSuchFileException.class, () -> AtomicFiles.write(f, new byte[] {1}, 0644));

        assertFalse(Files.exists(f.getParent()));
    }

    /** A reader opening the file at any moment gets one whole version: 8 MiB of 'a' or of 'b'. */
    @Test
    void write_largeFile_readersSeeOldOrNewContentOnly() throws Exception {
        byte[] a = new byte[8 << 20];
        byte[] b = new byte[8 << 20];
        Arrays.fill(a, (byte) 'a');
        Arrays.fill(b, (byte) 'b');
        Path f = dir.resolve("big");
        AtomicFiles.write(f, a, 0644);
        var done = new AtomicBoolean();

        try (ExecutorService pool = Executors.newFixedThreadPool(2)) {
            Future<Integer> reader = pool.submit(() -> {
                int reads = 0;
                while (!done.get() || reads == 0) {
                    byte[] seen = Files.readAllBytes(f);
                    if (!Arrays.equals(seen, a) && !Arrays.equals(seen, b)) {
                        throw new AssertionError("read a torn file of " + seen.length + " bytes");
                    }
                    reads++;
                }
                return reads;
            });
            Future<?> writer = pool.submit(() -> {
                try {
                    for (int i = 0; i < 20; i++) {
                        // Streamed in small pieces, so a non-atomic writer would show many partial states.
                        byte[] next = i % 2 == 0 ? b : a;
                        AtomicFiles.write(f, 0644, Durability.ATOMIC_ONLY, out -> {
                            for (int off = 0; off < next.length; off += 4096) {
                                out.write(next, off, 4096);
                            }
                        });
                    }
                    AtomicFiles.write(f, b, 0644); // and once with the durable path
                } finally {
                    done.set(true);
                }
                return null;
            });
            writer.get();
            assertTrue(reader.get() > 0);
        }
        assertArrayEquals(b, Files.readAllBytes(f));
        assertEquals(List.of(f), entries());
    }

    /**
     * 50 writers of one target, all inside their callback at once (a barrier holds them there):
     * each has a temp file of its own, and the target ends up as one writer's whole content.
     */
    @Test
    void write_50ConcurrentWriters_ownTempFilesAndOneWholeResult() throws Exception {
        int writers = 50;
        Path f = dir.resolve("shared.json");
        var barrier = new CyclicBarrier(writers, () -> {
            try {
                List<Path> temps = entries();
                assertEquals(writers, temps.size(), "one temp file per writer: " + temps);
                assertTrue(temps.stream()
                        .allMatch(p -> AtomicFiles.isTempName(p.getFileName().toString())));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        Set<String> contents = ConcurrentHashMap.newKeySet();

        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> all = new ArrayList<>();
            for (int i = 0; i < writers; i++) {
                String content = ("writer " + i + ";").repeat(2_000 + i);
                contents.add(content);
                all.add(pool.submit(() -> {
                    AtomicFiles.write(f, 0644, out -> {
                        byte[] bytes = content.getBytes(UTF_8);
                        out.write(bytes, 0, bytes.length / 2);
                        await(barrier);
                        out.write(bytes, bytes.length / 2, bytes.length - bytes.length / 2);
                    });
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

    @Test
    void tempNames_areUniqueHiddenAndRecognised() throws IOException {
        Path f = dir.resolve("x.json");
        Set<String> names = new HashSet<>();

        for (int i = 0; i < 200; i++) {
            AtomicFiles.write(f, 0644, Durability.ATOMIC_ONLY, out -> {
                try (Stream<Path> s = Files.list(dir)) {
                    s.map(p -> p.getFileName().toString())
                            .filter(AtomicFiles::isTempName)
                            .forEach(names::add);
                }
            });
        }

        assertEquals(200, names.size());
        assertTrue(names.stream().allMatch(n -> n.startsWith(".x.json.") && n.endsWith(".tmp")), names.toString());
        assertFalse(AtomicFiles.isTempName("x.json"));
    }

    @Test
    void write_veryLongTargetName_keepsTheTempNameShort() throws IOException {
        Path f = dir.resolve("n".repeat(250));

        AtomicFiles.write(f, new byte[] {1}, 0644);

        assertArrayEquals(new byte[] {1}, Files.readAllBytes(f));
    }

    @ParameterizedTest
    @EnumSource(Durability.class)
    void commit_fileWrittenElsewhere_isMovedIntoPlaceWithTheMode(Durability durability) throws IOException {
        Path ingest = Files.createDirectories(dir.resolve("ingest"));
        Path blobs = Files.createDirectories(dir.resolve("blobs"));
        Path written = Files.writeString(ingest.resolve("dl-1"), "blob");
        Path target = blobs.resolve("abc");

        AtomicFiles.commit(written, target, 0444, durability);

        assertEquals("blob", Files.readString(target));
        assertEquals("r--r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(target)));
        assertFalse(Files.exists(written));
    }

    @Test
    void commit_renameFails_removesTheWrittenFile() throws IOException {
        Path written = Files.writeString(dir.resolve("dl-1"), "blob");

        assertThrows(IOException.class, () -> AtomicFiles.commit(written, dir.resolve("no-such-dir/abc"), 0444));

        assertFalse(Files.exists(written));
    }

    private List<Path> entries() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    private static void await(CyclicBarrier barrier) throws IOException {
        try {
            barrier.await(30, TimeUnit.SECONDS); // a bound, not a wait: fails a writer that never arrives
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        } catch (BrokenBarrierException | TimeoutException e) {
            throw new IOException(e);
        }
    }
}

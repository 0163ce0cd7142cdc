package io.stevedore.server.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.stevedore.oci.fs.AtomicFiles;
import io.stevedore.server.error.DiskFull;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecordStoreTest {
    /** Shaped like the sandbox and container records: protobuf bytes, a list, a nested record. */
    record Rec(String id, byte[] config, List<String> layers, long createdAt, Inner status) {
        Rec {
            Objects.requireNonNull(id, "id");
            layers = layers == null ? List.of() : List.copyOf(layers);
        }
    }

    record Inner(String state, int pid) {}

    @TempDir
    Path dir;

    private RecordStore<Rec> store() throws IOException {
        return new RecordStore<>(dir.resolve("records"), Rec.class);
    }

    private static Rec rec(String id, String state) {
        return new Rec(
                id,
                new byte[] {0, 1, (byte) 0xff, 42},
                List.of("sha256:a", "sha256:b"),
                1234567890123L,
                new Inner(state, 77));
    }

    private static final class Bad {
        final List<Path> paths = new ArrayList<>();
        final List<Exception> errors = new ArrayList<>();

        void accept(Path p, Exception e) {
            paths.add(p);
            errors.add(e);
        }
    }

    private static List<Rec> loadAll(RecordStore<Rec> s) throws IOException {
        return s.loadAll((p, e) -> fail("unexpected bad record " + p + ": " + e));
    }

    @Test
    void putThenLoadAll_roundTripsBytesListsAndNestedRecords() throws IOException {
        var s = store();
        s.put("abc", rec("abc", "CREATED"));

        List<Rec> all = loadAll(s);

        assertEquals(1, all.size());
        Rec r = all.getFirst();
        assertEquals("abc", r.id());
        assertArrayEquals(new byte[] {0, 1, (byte) 0xff, 42}, r.config());
        assertEquals(List.of("sha256:a", "sha256:b"), r.layers());
        assertEquals(1234567890123L, r.createdAt());
        assertEquals(new Inner("CREATED", 77), r.status());
    }

    @Test
    void put_writesOneFileNamedAfterTheIdAndLeavesNoTemp() throws IOException {
        var s = store();
        s.put("abc", rec("abc", "CREATED"));

        try (var files = Files.list(dir.resolve("records"))) {
            assertEquals(
                    List.of("abc.json"),
                    files.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void put_sameId_replacesTheRecord() throws IOException {
        var s = store();
        s.put("abc", rec("abc", "CREATED"));
        s.put("abc", rec("abc", "RUNNING"));

        List<Rec> all = loadAll(s);

        assertEquals(1, all.size());
        assertEquals("RUNNING", all.getFirst().status().state());
    }

    @Test
    void put_aShorterRecord_leavesNoTrailingBytesOfTheLongerOne() throws IOException {
        var s = store();
        s.put("abc", new Rec("abc", new byte[4096], List.of("x".repeat(1000)), 1, new Inner("CREATED", 1)));
        s.put("abc", new Rec("abc", new byte[0], List.of(), 2, new Inner("EXITED", 0)));

        List<Rec> all = loadAll(s);

        assertEquals(1, all.size());
        assertEquals(0, all.getFirst().config().length);
        assertEquals(List.of(), all.getFirst().layers());
    }

    @Test
    void loadAll_manyIds_returnsEachOnce() throws IOException {
        var s = store();
        for (String id : List.of("a", "b", "c")) s.put(id, rec(id, "CREATED"));

        List<String> ids = loadAll(s).stream().map(Rec::id).sorted().toList();

        assertEquals(List.of("a", "b", "c"), ids);
    }

    @Test
    void remove_deletesTheRecord_andIsIdempotent() throws IOException {
        var s = store();
        s.put("a", rec("a", "CREATED"));
        s.put("b", rec("b", "CREATED"));

        s.remove("a");
        s.remove("a");
        s.remove("never-existed");

        assertEquals(List.of("b"), loadAll(s).stream().map(Rec::id).toList());
        assertFalse(Files.exists(dir.resolve("records/a.json")));
    }

    @Test
    void loadAll_corruptFile_isReportedAndSkipped() throws IOException {
        var s = store();
        s.put("good", rec("good", "CREATED"));
        Path torn = dir.resolve("records/torn.json");
        Files.writeString(torn, "{\"id\":\"torn\",\"config\":\"AAE");
        Path empty = dir.resolve("records/empty.json");
        Files.writeString(empty, "");
        var bad = new Bad();

        List<Rec> all = s.loadAll(bad::accept);

        assertEquals(List.of("good"), all.stream().map(Rec::id).toList());
        Path aside = dir.resolve("records/unreadable");
        assertEquals(
                List.of(aside.resolve("empty.json"), aside.resolve("torn.json")),
                bad.paths.stream().sorted().toList());
        bad.errors.forEach(e -> assertInstanceOf(IOException.class, e));
        assertFalse(Files.exists(torn), "moved aside");
        assertTrue(Files.exists(aside.resolve("torn.json")), "a corrupt record is kept for the operator, not deleted");
        assertEquals(java.util.Set.of("empty", "torn"), s.setAside(), "and its id stays known");
        assertEquals(
                List.of("good"), s.loadAll(bad::accept).stream().map(Rec::id).toList(), "the next load as well");
        assertEquals(2, bad.paths.size(), "a record set aside is reported once, when it is set aside");
    }

    @Test
    void loadAll_recordRejectedByItsConstructor_isReportedAndSkipped() throws IOException {
        var s = store();
        Path noId = dir.resolve("records/noid.json");
        Files.writeString(noId, "{\"layers\":[],\"createdAt\":1}");
        var bad = new Bad();

        List<Rec> all = s.loadAll(bad::accept);

        assertEquals(List.of(), all);
        assertEquals(List.of(dir.resolve("records/unreadable/noid.json")), bad.paths);
    }

    @Test
    void loadAll_leftoverTempFiles_areDeletedAndNotLoaded() throws IOException {
        var s = store();
        s.put("abc", rec("abc", "CREATED"));
        Path tmp = dir.resolve("records/.x.json.tmp");
        Files.writeString(tmp, "{\"id\":\"x\"}");
        Path tornTmp = dir.resolve("records/.abc.json.tmp");
        Files.writeString(tornTmp, "{\"id\":\"ab");

        List<Rec> all = loadAll(s);

        assertEquals(List.of("abc"), all.stream().map(Rec::id).toList());
        assertFalse(Files.exists(tmp));
        assertFalse(Files.exists(tornTmp));
    }

    /**
     * A store whose writes run out of space half-way through the file, as a full disk makes them:
     * the half reaches the real temp file (its size is recorded in {@code halfWritten}) before the
     * write fails with the JDK's ENOSPC.
     */
    private RecordStore<Rec> fullDiskStore(List<Long> halfWritten) throws IOException {
        Path records = dir.resolve("records");
        return new RecordStore<>(
                records,
                Rec.class,
                2,
                (from, r) -> r,
                (file, data, mode) -> AtomicFiles.write(file, mode, out -> {
                    out.write(data, 0, data.length / 2);
                    out.flush();
                    try (var temps = Files.list(records)) {
                        for (Path t : temps.filter(p ->
                                        AtomicFiles.isTempName(p.getFileName().toString()))
                                .toList()) {
                            halfWritten.add(Files.size(t));
                        }
                    }
                    throw new IOException("No space left on device");
                }));
    }

    @Test
    void put_diskFullMidWrite_keepsTheOldRecordAndLeavesNoTempFile() throws IOException {
        // given a stored record
        Path file = dir.resolve("records/abc.json");
        store().put("abc", rec("abc", "CREATED"));
        byte[] before = Files.readAllBytes(file);
        List<Long> halfWritten = new ArrayList<>();
        var full = fullDiskStore(halfWritten);

        // when its update runs out of space
        var e = assertThrows(UncheckedIOException.class, () -> full.put("abc", rec("abc", "RUNNING")));

        // then the error names the file and the reason, and the old record is all there is
        assertEquals(1, halfWritten.size(), "the update reached a temp file");
        assertTrue(halfWritten.getFirst() > 0);
        assertEquals("write " + file + ": No space left on device", e.getMessage());
        assertTrue(DiskFull.is(e));
        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals("CREATED", loadAll(store()).getFirst().status().state());
        try (var entries = Files.list(dir.resolve("records"))) {
            assertEquals(List.of(file), entries.toList());
        }
    }

    @Test
    void put_diskFullOnANewRecord_leavesNoFileAtAll() throws IOException {
        List<Long> halfWritten = new ArrayList<>();
        var full = fullDiskStore(halfWritten);

        assertThrows(UncheckedIOException.class, () -> full.put("new", rec("new", "CREATED")));

        assertEquals(1, halfWritten.size());
        try (var entries = Files.list(dir.resolve("records"))) {
            assertEquals(List.of(), entries.toList());
        }
    }

    @Test
    void put_replacesTheRecordPrivatelyAndLeavesNoTempFile() throws IOException {
        var s = store();
        s.put("abc", rec("abc", "CREATED"));

        s.put("abc", rec("abc", "RUNNING"));

        assertEquals("RUNNING", loadAll(s).getFirst().status().state());
        Path file = dir.resolve("records/abc.json");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        try (var entries = Files.list(dir.resolve("records"))) {
            assertEquals(List.of(file), entries.toList());
        }
    }

    @Test
    void loadAll_otherFiles_areLeftAlone() throws IOException {
        var s = store();
        Path readme = dir.resolve("records/README");
        Files.writeString(readme, "not a record");

        assertEquals(List.of(), loadAll(s));
        assertTrue(Files.exists(readme));
    }

    @Test
    void loadAll_unknownProperties_areIgnored() throws IOException {
        var s = store();
        Files.writeString(dir.resolve("records/abc.json"), """
        {"id":"abc","config":"AAH/Kg==","layers":["sha256:a"],"createdAt":5,
         "status":{"state":"RUNNING","pid":3,"addedLater":true},
         "fieldFromANewerVersion":{"nested":[1,2,3]}}
        """);

        List<Rec> all = loadAll(s);

        assertEquals(1, all.size());
        assertArrayEquals(new byte[] {0, 1, (byte) 0xff, 42}, all.getFirst().config());
        assertEquals(new Inner("RUNNING", 3), all.getFirst().status());
    }

    @Test
    void newStore_createsItsDirectory_andLoadsNothing() throws IOException {
        Path d = dir.resolve("a/b/c");
        var s = new RecordStore<>(d, Rec.class);

        assertTrue(Files.isDirectory(d));
        assertEquals(List.of(), s.loadAll((p, e) -> fail(p.toString())));
    }

    @Test
    void reopenedStore_seesWhatTheFirstWrote() throws IOException {
        store().put("abc", rec("abc", "EXITED"));

        List<Rec> all = loadAll(store());

        assertEquals(1, all.size());
        assertEquals("abc", all.getFirst().id());
        assertEquals("EXITED", all.getFirst().status().state());
    }

    @Test
    void put_writesTheFormatVersionBesideTheRecord() throws IOException {
        store().put("a", rec("a", "CREATED"));
        String json = Files.readString(dir.resolve("records/a.json"));
        assertTrue(json.startsWith("{\"version\":2,\"record\":{\"id\":\"a\""), json);
    }

    @Test
    void loadAll_aBareRecordFromBeforeVersions_loadsAsVersionOne() throws IOException {
        Files.createDirectories(dir.resolve("records"));
        Files.writeString(dir.resolve("records/old.json"), "{\"id\":\"old\",\"layers\":[],\"createdAt\":5}");
        var seen = new ArrayList<Integer>();
        var s = new RecordStore<>(dir.resolve("records"), Rec.class, 3, (from, r) -> {
            seen.add(from);
            return r.put("createdAt", 6);
        });

        List<Rec> all = s.loadAll((p, e) -> fail("unexpected bad record " + p + ": " + e));

        assertEquals(List.of(RecordStore.UNVERSIONED), seen);
        assertEquals(6, all.getFirst().createdAt(), "migrated on the way in");
    }

    @Test
    void loadAll_aRecordFromANewerDaemon_isRefusedAndKept() throws IOException {
        Files.createDirectories(dir.resolve("records"));
        Path future = dir.resolve("records/future.json");
        Files.writeString(future, "{\"version\":99,\"record\":{\"id\":\"future\",\"layers\":[],\"createdAt\":5}}");
        var bad = new Bad();

        List<Rec> all = store().loadAll(bad::accept);

        assertEquals(List.of(), all);
        var e = assertInstanceOf(RecordStore.UnknownVersion.class, bad.errors.getFirst());
        assertEquals(99, e.found());
        assertTrue(Files.exists(future));
    }
}

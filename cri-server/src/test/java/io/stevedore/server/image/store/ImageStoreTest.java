package io.stevedore.server.image.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageStoreTest {
    static final String ID1 = "sha256:" + "1".repeat(64);
    static final String ID2 = "sha256:" + "2".repeat(64);
    static final ImageRecord.Layer LAYER = new ImageRecord.Layer(
            "sha256:" + "a".repeat(64), 10, "application/vnd.oci.image.layer.v1.tar+gzip", "sha256:" + "b".repeat(64));

    @TempDir
    Path dir;

    ImageStore store;

    @BeforeEach
    void open() throws IOException {
        store = new ImageStore(dir);
    }

    static ImageRecord image(String id, String tag) {
        return new ImageRecord(
                id,
                List.of(tag),
                List.of("docker.io/library/busybox@sha256:" + "9".repeat(64)),
                42,
                List.of("sha256:" + "9".repeat(64)),
                List.of(LAYER),
                false);
    }

    @Test
    void put_thenReopen_recordSurvives() throws IOException {
        store.put(image(ID1, "docker.io/library/busybox:1"));
        var again = new ImageStore(dir);
        assertEquals(Optional.of(image(ID1, "docker.io/library/busybox:1")), again.byId(ID1));
        assertTrue(Files.readString(dir.resolve("1".repeat(64) + ".json")).startsWith("{\"version\":\"v1\""));
    }

    @Test
    void put_writesOneReadableFileAndNoTemp() throws IOException {
        store.put(image(ID1, "docker.io/library/busybox:1"));
        store.put(image(ID1, "docker.io/library/busybox:2"));

        Path file = dir.resolve("1".repeat(64) + ".json");
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        try (var entries = Files.list(dir)) {
            assertEquals(List.of(file), entries.toList());
        }
    }

    @Test
    void open_leftoverTempFiles_areDeleted() throws IOException {
        store.put(image(ID1, "docker.io/library/busybox:1"));
        Path before = Files.writeString(dir.resolve("2".repeat(64) + ".json.tmp"), "{\"vers");
        Path now = Files.writeString(dir.resolve("." + "2".repeat(64) + ".json.0123456789abcdef.tmp"), "{");

        var again = new ImageStore(dir);

        assertEquals(List.of(ID1), again.list().stream().map(ImageRecord::id).toList());
        assertTrue(Files.notExists(before));
        assertTrue(Files.notExists(now));
    }

    @Test
    void find_byTagDigestIdAndPrefix() throws IOException {
        store.put(image(ID1, "docker.io/library/busybox:1"));
        assertEquals(
                ID1, store.find("docker.io/library/busybox:1").orElseThrow().id());
        assertEquals(
                ID1,
                store.find("docker.io/library/busybox@sha256:" + "9".repeat(64))
                        .orElseThrow()
                        .id());
        assertEquals(ID1, store.find(ID1).orElseThrow().id());
        assertEquals(ID1, store.find("111").orElseThrow().id());
        assertEquals(Optional.empty(), store.find("11"), "too short a prefix");
        assertEquals(Optional.empty(), store.find("docker.io/library/busybox:2"));
    }

    @Test
    void put_sameTagNewImage_movesTag() throws IOException {
        store.put(image(ID1, "docker.io/library/busybox:latest"));
        store.put(image(ID2, "docker.io/library/busybox:latest"));
        assertEquals(
                ID2,
                store.find("docker.io/library/busybox:latest").orElseThrow().id());
        assertEquals(List.of(), store.byId(ID1).orElseThrow().repoTags(), "the old image keeps only its id");
    }

    @Test
    void put_sameIdTwice_mergesReferences() throws IOException {
        store.put(image(ID1, "docker.io/library/busybox:1"));
        var merged = store.put(image(ID1, "docker.io/library/busybox:one"));
        assertEquals(List.of("docker.io/library/busybox:1", "docker.io/library/busybox:one"), merged.repoTags());
    }

    @Test
    void remove_isIdempotent() throws IOException {
        store.put(image(ID1, "docker.io/library/busybox:1"));
        store.remove(ID1);
        store.remove(ID1);
        assertEquals(0, new ImageStore(dir).list().size());
    }

    @Test
    void reopen_unknownVersion_fails() throws IOException {
        Files.writeString(dir.resolve("3".repeat(64) + ".json"), "{\"version\":\"v9\"}");
        var e = assertThrows(IOException.class, () -> new ImageStore(dir));
        assertTrue(e.getMessage().contains("unsupported image record version \"v9\""), e.getMessage());
    }
}

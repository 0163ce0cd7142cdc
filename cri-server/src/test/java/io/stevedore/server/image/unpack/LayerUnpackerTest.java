package io.stevedore.server.image.unpack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class LayerUnpackerTest {
    @TempDir
    Path tmp;

    Path dest;
    RecordingSyscalls sys = new RecordingSyscalls();
    LayerUnpacker unpacker = new LayerUnpacker(sys);

    @BeforeEach
    void dest() throws IOException {
        dest = Files.createDirectory(tmp.resolve("layer"));
    }

    private UnpackStats unpack(byte[] tar) throws Exception {
        return unpacker.unpack(new ByteArrayInputStream(tar), dest);
    }

    @Test
    void unpack_overLayerBudget_stopsBeforeWritingPastIt() throws Exception {
        String big = "x".repeat(300_000);
        var image = UnpackBudget.of(10_000_000, "image.max_image_size");
        var layer = image.layer(200_000, "image.max_layer_size");
        byte[] tar =
                new TestTar().file("small", "ok", 0644).file("big", big, 0644).bytes();

        var e = assertThrows(
                SizeLimitException.class, () -> unpacker.unpack(new ByteArrayInputStream(tar), dest, layer));

        assertEquals("image.max_layer_size", e.setting());
        assertEquals("unpacked size exceeds image.max_layer_size (200000 bytes)", e.getMessage());
        assertTrue(Files.size(dest.resolve("big")) <= 200_000, "nothing written past the limit");
        assertTrue(image.used() <= 200_000, "the image is charged only what was written");
        assertTrue(image.used() > 100_000, "file content and entries are counted");
    }

    @Test
    void unpack_filesDirsLinks_keepContentModesAndTimes() throws Exception {
        var stats = unpack(new TestTar()
                .dir("./etc/", 0755)
                .file("./etc/passwd", "root:x:0:0\n", 0640)
                .file("/bin/tool", "#!", 0750)
                .symlink("bin/sh", "/bin/tool")
                .hardlink("bin/tool2", "bin/tool")
                .bytes());
        assertEquals(5, stats.entries());
        assertEquals("root:x:0:0\n", Files.readString(dest.resolve("etc/passwd")));
        assertEquals(
                "rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(dest.resolve("etc/passwd"))));
        assertEquals(
                "rwxr-x---",
                PosixFilePermissions.toString(Files.getPosixFilePermissions(dest.resolve("bin/tool"))),
                "an absolute name lands inside the layer, as containerd cleans it");
        assertEquals(Path.of("/bin/tool"), Files.readSymbolicLink(dest.resolve("bin/sh")));
        assertEquals(
                Files.getAttribute(dest.resolve("bin/tool"), "unix:ino"),
                Files.getAttribute(dest.resolve("bin/tool2"), "unix:ino"));
        assertEquals(
                1577836800_000L, Files.getLastModifiedTime(dest.resolve("etc")).toMillis(), "directory time set last");
        assertEquals(
                1577836800_000L,
                Files.getLastModifiedTime(dest.resolve("bin/sh"), LinkOption.NOFOLLOW_LINKS)
                        .toMillis(),
                "symlink's own time");
    }

    @Test
    void unpack_whiteoutsAndOpaque_becomeOverlayForm() throws Exception {
        unpack(new TestTar()
                .dir("a", 0755)
                .file("a/.wh.gone", "", 0644)
                .file("b/.wh..wh..opq", "", 0644)
                .bytes());
        assertEquals(List.of("mknod gone 20000 0:0", "lsetxattr b trusted.overlay.opaque=y"), sys.calls);
        assertFalse(Files.exists(dest.resolve("a/.wh.gone"), LinkOption.NOFOLLOW_LINKS));
        assertFalse(Files.exists(dest.resolve("b/.wh..wh..opq"), LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void unpack_aufsMetadata_isDropped() throws Exception {
        unpack(new TestTar()
                .dir("d", 0755)
                .file("d/.wh..wh.plnk", "", 0644)
                .file("d/keep", "k", 0644)
                .bytes());
        assertEquals(List.of(), sys.calls, "no whiteout made for AUFS metadata");
        try (Stream<Path> s = Files.list(dest.resolve("d"))) {
            assertEquals(List.of("keep"), s.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void unpack_devicesAndFifos_goThroughMknod() throws Exception {
        var tar = new TestTar()
                .entry("dev/null", '3', 0666, "")
                .entry("dev/loop0", '4', 0660, "")
                .entry("run/fifo", '6', 0600, "");
        unpack(tar.bytes());
        assertEquals(List.of("mknod null 20666 0:0", "mknod loop0 60660 0:0", "mknod fifo 10600 0:0"), sys.calls);
    }

    @Test
    void unpack_paxHeaders_giveLongNamesFractionalTimesAndXattrs() throws Exception {
        String longName = "deep/" + "x".repeat(150) + "/file";
        unpack(new TestTar()
                .paxFile(longName, "1577836800.5", "user.note", "hi", "content")
                .bytes());
        Path f = dest.resolve(longName);
        assertEquals("content", Files.readString(f));
        assertEquals(1577836800_500L, Files.getLastModifiedTime(f).toMillis());
        assertEquals(List.of("lsetxattr file user.note=hi"), sys.calls);
    }

    @Test
    void unpack_laterEntryReplacesEarlierOne() throws Exception {
        unpack(new TestTar()
                .file("x", "first", 0644)
                .symlink("x", "/elsewhere")
                .file("y", "one", 0644)
                .file("y", "two", 0644)
                .bytes());
        assertTrue(Files.isSymbolicLink(dest.resolve("x")));
        assertEquals("two", Files.readString(dest.resolve("y")));
    }

    record Hostile(String desc, TestTar tar, String message) {
        @Override
        public String toString() {
            return desc;
        }
    }

    static Stream<Hostile> hostile() {
        return Stream.of(
                new Hostile("dot-dot", new TestTar().file("../evil", "x", 0644), "escapes the layer"),
                new Hostile("dot-dot deep", new TestTar().file("a/../../evil", "x", 0644), "escapes the layer"),
                new Hostile(
                        "through symlink to /",
                        new TestTar().symlink("s", "/").file("s/evil", "x", 0644),
                        "refusing to write through symbolic link \"s\""),
                new Hostile(
                        "through symlink to ..",
                        new TestTar().symlink("s", "..").file("s/evil", "x", 0644),
                        "refusing to write through symbolic link \"s\""),
                new Hostile("hard link out", new TestTar().hardlink("h", "../evil-target"), "escapes the layer"),
                new Hostile(
                        "hard link to absent",
                        new TestTar().hardlink("h", "etc/passwd"),
                        "is not a file earlier in this layer"),
                new Hostile(
                        "file as parent",
                        new TestTar().file("f", "x", 0644).file("f/evil", "x", 0644),
                        "\"f\" is not a directory"),
                new Hostile(
                        "unknown type", new TestTar().entry("weird", 'Z', 0644, ""), "unsupported tar entry type 'Z'"),
                new Hostile(
                        "whiteout of the dir itself",
                        new TestTar().dir("d", 0755).file("d/.wh..", "", 0644),
                        "whiteout names no file"),
                new Hostile("whiteout of the parent", new TestTar().file(".wh...", "", 0644), "whiteout names no file"),
                new Hostile(
                        "whiteout with no name",
                        new TestTar().dir("d", 0755).file("d/.wh.", "", 0644),
                        "whiteout names no file"));
    }

    @ParameterizedTest
    @MethodSource("hostile")
    void unpack_hostileLayer_isRefusedAndWritesNothingOutside(Hostile h) throws IOException {
        Files.writeString(tmp.resolve("evil-target"), "outside");
        var e = assertThrows(UnpackException.class, () -> unpack(h.tar().bytes()));
        assertTrue(e.getMessage().contains(h.message()), e.getMessage());
        try (Stream<Path> outside = Files.list(tmp)) {
            assertEquals(
                    List.of("evil-target", "layer"),
                    outside.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void unpack_truncatedArchive_fails() {
        assertThrows(
                EOFException.class,
                () -> unpack(new TestTar().file("a", "x".repeat(2000), 0644).truncated()));
    }

    @Test
    void unpack_corruptHeader_failsOnChecksum() {
        byte[] tar = new TestTar().file("a", "x", 0644).bytes();
        tar[10] ^= 0x55;
        var e = assertThrows(UnpackException.class, () -> unpack(tar));
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());
    }

    @Test
    void decompression_gzipZstdAndPlain_allUnpack() throws Exception {
        byte[] tar = new TestTar().file("hello", "hi", 0644).bytes();
        var gz = new ByteArrayOutputStream();
        try (var out = new GZIPOutputStream(gz)) {
            out.write(tar);
        }
        var zst = new ByteArrayOutputStream();
        try (var out = new io.airlift.compress.v3.zstd.ZstdJavaOutputStream(zst)) {
            out.write(tar);
        }
        for (byte[] blob : List.of(gz.toByteArray(), zst.toByteArray(), tar)) {
            Path d = Files.createTempDirectory(tmp, "d");
            unpacker.unpack(
                    Decompression.open(new ByteArrayInputStream(blob), "application/vnd.oci.image.layer.v1.tar+gzip"),
                    d);
            assertEquals("hi", Files.readString(d.resolve("hello")));
        }
    }

    @Test
    void decompression_zstdTypeButNotZstd_isRefused() {
        byte[] tar = new TestTar().file("hello", "hi", 0644).bytes();
        assertThrows(
                IOException.class,
                () -> Decompression.open(new ByteArrayInputStream(tar), "application/vnd.oci.image.layer.v1.tar+zstd"));
    }
}

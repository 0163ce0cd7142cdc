package io.stevedore.conformance;

import static io.stevedore.conformance.registry.TarWriter.Entry.dir;
import static io.stevedore.conformance.registry.TarWriter.Entry.file;
import static io.stevedore.conformance.registry.TarWriter.Entry.hardlink;
import static io.stevedore.conformance.registry.TarWriter.Entry.symlink;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.stevedore.conformance.registry.TarWriter;
import io.stevedore.conformance.registry.TestImages;
import io.stevedore.conformance.registry.TestImages.Config;
import io.stevedore.conformance.registry.TestImages.Layer;
import io.stevedore.conformance.registry.TestRegistry;
import io.stevedore.cri.v1.Image;
import io.stevedore.cri.v1.ImageFilter;
import io.stevedore.cri.v1.ImageSpec;
import io.stevedore.cri.v1.ImageStatusRequest;
import io.stevedore.cri.v1.ListImagesRequest;
import io.stevedore.cri.v1.PullImageRequest;
import io.stevedore.cri.v1.RemoveImageRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Pulls from a real registry on loopback, through the daemon's socket, as kubelet does. */
@RequiresRoot
class ImagePullIT {
    @RegisterExtension
    static final LiveDaemon daemon = LiveDaemon.withDefaults();

    static TestRegistry registry;
    static TestImages images;

    @BeforeAll
    static void registry() throws IOException {
        registry = TestRegistry.start();
        images = new TestImages(registry);
    }

    @AfterAll
    static void stopRegistry() throws IOException {
        if (registry != null) {
            registry.close();
        }
    }

    private static String pull(String ref) {
        return daemon.client()
                .images()
                .pullImage(PullImageRequest.newBuilder()
                        .setImage(ImageSpec.newBuilder().setImage(ref))
                        .build())
                .getImageRef();
    }

    private static Image status(String ref) {
        return daemon.client()
                .images()
                .imageStatus(ImageStatusRequest.newBuilder()
                        .setImage(ImageSpec.newBuilder().setImage(ref))
                        .build())
                .getImage();
    }

    private static void remove(String ref) {
        daemon.client()
                .images()
                .removeImage(RemoveImageRequest.newBuilder()
                        .setImage(ImageSpec.newBuilder().setImage(ref))
                        .build());
    }

    private static Path snapshots() {
        return daemon.process().root().resolve("snapshots");
    }

    private static long count(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> !p.getFileName().toString().startsWith(".")).count();
        }
    }

    @Test
    void pull_multiLayerImage_unpacksEveryKindOfEntry() throws Exception {
        var pushed = images.push(
                "test/multi",
                "v1",
                Config.cmd("/bin/hello").withUser("1000"),
                List.of(
                        Layer.of(
                                dir("bin", 0755),
                                file("bin/hello", "#!/bin/sh\necho hi\n", 0755),
                                hardlink("bin/hello-again", "bin/hello"),
                                dir("etc", 0755),
                                file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0644),
                                file("usr-sbin-suid", "x", 04755).owner(0, 0),
                                dir("data", 0755),
                                file("data/old", "old", 0644),
                                file("data/keep", "keep", 0644),
                                dir("opq", 0755),
                                file("opq/gone", "gone", 0644),
                                new TarWriter.Entry(
                                        "run-fifo",
                                        TarWriter.Type.FIFO,
                                        0620,
                                        0,
                                        0,
                                        1577836800L,
                                        "",
                                        new byte[0],
                                        0,
                                        0,
                                        Map.of()),
                                new TarWriter.Entry(
                                        "dev-null",
                                        TarWriter.Type.CHAR,
                                        0666,
                                        0,
                                        0,
                                        1577836800L,
                                        "",
                                        new byte[0],
                                        1,
                                        3,
                                        Map.of())),
                        Layer.of(
                                file("data/.wh.old", "", 0644),
                                file("opq/.wh..wh..opq", "", 0644),
                                file("opq/new", "new", 0644),
                                symlink("bin/sh-link", "/bin/hello"))),
                false);

        String id = pull(pushed.reference());
        assertEquals(pushed.configDigest(), id, "image_ref is the image id (config digest)");
        Image img = status(pushed.reference());
        assertEquals(id, img.getId());
        assertEquals(List.of(pushed.reference()), img.getRepoTagsList());
        assertEquals(List.of(registry.host() + "/test/multi@" + pushed.manifestDigest()), img.getRepoDigestsList());
        assertEquals(1000, img.getUid().getValue());
        assertEquals(pushed.size(), img.getSize());
        assertEquals(id, status(id).getId(), "by id");
        assertEquals(id, status(id.substring(7, 19)).getId(), "by id prefix");
        assertEquals(
                id,
                status(registry.host() + "/test/multi@" + pushed.manifestDigest())
                        .getId(),
                "by digest");

        assertEquals(2, count(snapshots()));
        Path lower = null;
        Path upper = null;
        try (Stream<Path> s = Files.list(snapshots())) {
            for (Path p : s.toList()) {
                if (Files.exists(p.resolve("fs/bin/hello"), LinkOption.NOFOLLOW_LINKS)) {
                    lower = p.resolve("fs");
                } else {
                    upper = p.resolve("fs");
                }
            }
        }
        assertEquals(
                "rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(lower.resolve("bin/hello"))));
        assertEquals(
                Files.getAttribute(lower.resolve("bin/hello"), "unix:ino"),
                Files.getAttribute(lower.resolve("bin/hello-again"), "unix:ino"),
                "hard link shares the inode");
        assertEquals(
                04755, (int) Files.getAttribute(lower.resolve("usr-sbin-suid"), "unix:mode") & 07777, "setuid kept");
        assertEquals(
                0010620,
                (int) Files.getAttribute(lower.resolve("run-fifo"), "unix:mode", LinkOption.NOFOLLOW_LINKS),
                "a FIFO with its exact mode (umask not applied)");
        assertEquals(
                0x103L, Files.getAttribute(lower.resolve("dev-null"), "unix:rdev", LinkOption.NOFOLLOW_LINKS), "1:3");
        assertTrue(Files.isSymbolicLink(upper.resolve("bin/sh-link")));
        assertEquals(Path.of("/bin/hello"), Files.readSymbolicLink(upper.resolve("bin/sh-link")));
        assertEquals(
                0L,
                Files.getAttribute(upper.resolve("data/old"), "unix:rdev", LinkOption.NOFOLLOW_LINKS),
                "a whiteout is a 0:0 character device");
        assertTrue(
                Files.getAttribute(upper.resolve("data/old"), "unix:mode", LinkOption.NOFOLLOW_LINKS)
                                instanceof Integer m
                        && (m & 0170000) == 0020000,
                "character device");
        assertFalse(
                Files.exists(upper.resolve("data/.wh.old"), LinkOption.NOFOLLOW_LINKS),
                "whiteout files are not unpacked");
        assertFalse(Files.exists(upper.resolve("opq/.wh..wh..opq"), LinkOption.NOFOLLOW_LINKS));
        var opaque = new ProcessBuilder(
                        "getfattr",
                        "--absolute-names",
                        "--only-values",
                        "-n",
                        "trusted.overlay.opaque",
                        upper.resolve("opq").toString())
                .start();
        assertEquals(
                "y",
                new String(opaque.getInputStream().readAllBytes()).trim(),
                "opaque directory marked for overlayfs");
        assertEquals("new", Files.readString(upper.resolve("opq/new")));

        remove(pushed.reference());
        assertEquals("", status(pushed.reference()).getId(), "an absent image is an empty status, not an error");
        assertEquals(0, count(snapshots()), "unused snapshots are collected");
        remove(pushed.reference()); // idempotent
    }

    @Test
    void pull_dockerSchema2_andListFilter() throws Exception {
        var pushed = images.push("test/docker", "v2", Config.cmd("/x"), List.of(Layer.of(file("x", "x", 0755))), true);
        String id = pull(pushed.reference());
        var all = daemon.client()
                .images()
                .listImages(ListImagesRequest.getDefaultInstance())
                .getImagesList();
        assertTrue(all.stream().anyMatch(i -> i.getId().equals(id)));
        var filtered = daemon.client()
                .images()
                .listImages(ListImagesRequest.newBuilder()
                        .setFilter(ImageFilter.newBuilder()
                                .setImage(ImageSpec.newBuilder().setImage(pushed.reference())))
                        .build());
        assertEquals(
                List.of(id), filtered.getImagesList().stream().map(Image::getId).toList());
        remove(id);
        assertEquals("", status(pushed.reference()).getId());
    }

    @Test
    void pull_zstdAndUncompressedLayers_unpack() throws Exception {
        var pushed = images.push(
                "test/zstd",
                "v1",
                Config.cmd("/z"),
                List.of(
                        new Layer(List.of(file("z", "zstd layer", 0644)), TestImages.Compression.ZSTD),
                        new Layer(List.of(file("plain", "plain layer", 0644)), TestImages.Compression.NONE)),
                false);
        assertEquals(pushed.configDigest(), pull(pushed.reference()));
        try (Stream<Path> s = Files.list(snapshots())) {
            var contents = s.flatMap(p -> Stream.of(p.resolve("fs/z"), p.resolve("fs/plain")))
                    .filter(Files::exists)
                    .map(p -> {
                        try {
                            return Files.readString(p);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    })
                    .sorted()
                    .toList();
            assertEquals(List.of("plain layer", "zstd layer"), contents);
        }
        remove(pushed.reference());
    }

    @Test
    void pull_index_picksLinuxAmd64() throws Exception {
        var amd = images.push("test/multiarch", "amd", Config.cmd("/amd"), List.of(file("amd", "a", 0644)));
        var arm = images.push("test/multiarch", "arm", Config.cmd("/arm"), List.of(file("arm", "b", 0644)));
        images.pushIndex("test/multiarch", "v1", List.of("linux/arm64", "linux/amd64"), List.of(arm, amd));
        String id = pull(registry.host() + "/test/multiarch:v1");
        assertEquals(amd.configDigest(), id);
        remove(id);
    }

    @Test
    void pull_sharedBottomLayer_isUnpackedOnce() throws Exception {
        var base = Layer.of(dir("base", 0755), file("base/f", "shared", 0644));
        var a = images.push(
                "test/shared-a", "v1", Config.cmd("/a"), List.of(base, Layer.of(file("a", "a", 0644))), false);
        var b = images.push(
                "test/shared-b", "v1", Config.cmd("/b"), List.of(base, Layer.of(file("b", "b", 0644))), false);
        pull(a.reference());
        pull(b.reference());
        assertEquals(3, count(snapshots()), "base + a + b");
        remove(a.reference());
        assertEquals(2, count(snapshots()), "base stays while b uses it");
        remove(b.reference());
        assertEquals(0, count(snapshots()));
    }

    @Test
    void pull_unknownTag_isNotFound() {
        var e = assertThrows(StatusRuntimeException.class, () -> pull(registry.host() + "/test/nothing:here"));
        assertEquals(
                Status.Code.NOT_FOUND, e.getStatus().getCode(), e.getStatus().toString());
    }

    @Test
    void pull_invalidReference_isInvalidArgument() {
        var e = assertThrows(StatusRuntimeException.class, () -> pull("UPPER/Case:tag"));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(
                e.getStatus().getDescription().contains("UPPER/Case:tag"),
                e.getStatus().getDescription());
    }

    /** Hostile layers: each must fail the pull cleanly and write nothing outside the daemon's state. */
    static Stream<Map.Entry<String, List<TarWriter.Entry>>> hostile(String marker) {
        return Stream.of(
                Map.entry("dot-dot", List.of(file("../../../../../../tmp/" + marker, "pwned", 0644))),
                Map.entry(
                        "symlink-to-root",
                        List.of(symlink("escape", "/"), file("escape/tmp/" + marker, "pwned", 0644))),
                Map.entry(
                        "symlink-to-parent",
                        List.of(
                                dir("d", 0755),
                                symlink("d/up", "../../../../../../../tmp"),
                                file("d/up/" + marker, "pwned", 0644))),
                Map.entry("hardlink-out", List.of(hardlink(marker, "../../../../../../etc/passwd"))),
                Map.entry("whiteout-of-parent", List.of(dir("d", 0755), file("d/.wh...", "", 0644))));
    }

    @Test
    void pull_hostileLayers_failCleanlyAndWriteNothingOutside() throws Exception {
        String marker = "stevedore-pwned-" + UUID.randomUUID();
        for (var c : hostile(marker).toList()) {
            var pushed = images.push("test/hostile-" + c.getKey(), "v1", Config.cmd("/x"), c.getValue());
            var e = assertThrows(StatusRuntimeException.class, () -> pull(pushed.reference()), c.getKey());
            assertTrue(
                    e.getStatus().getDescription().contains("test/hostile-" + c.getKey()),
                    e.getStatus().getDescription());
            assertFalse(
                    Files.exists(Path.of("/tmp", marker), LinkOption.NOFOLLOW_LINKS), c.getKey() + " wrote outside");
            assertEquals("", status(pushed.reference()).getId(), c.getKey() + ": no half-visible image");
        }
        assertEquals(0, count(snapshots()), "no snapshot left by failed pulls");
        try (Stream<Path> s = Files.walk(daemon.dir())) {
            assertEquals(
                    List.of(),
                    s.filter(p -> p.getFileName().toString().equals(marker)).toList());
        }
    }
}

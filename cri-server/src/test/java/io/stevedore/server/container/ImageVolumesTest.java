package io.stevedore.server.container;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.cri.v1.ContainerConfig;
import io.stevedore.cri.v1.ImageSpec;
import io.stevedore.cri.v1.Mount;
import io.stevedore.oci.spec.Spec;
import io.stevedore.oci.spec.SpecJson;
import io.stevedore.server.error.CriException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Image volumes (KEP-4639) over fakes: what CreateContainer mounts, binds, keeps and gives back. */
class ImageVolumesTest {
    @TempDir
    Path dir;

    ContainerHarness h;

    @BeforeEach
    void start() throws IOException {
        h = new ContainerHarness(dir);
        Path layer = h.dataLayer();
        Files.createDirectories(layer.resolve("etc/app"));
        Files.writeString(layer.resolve("etc/app/data.txt"), "hello from the image\n");
        Files.createSymbolicLink(layer.resolve("cfg"), Path.of("etc/app"));
        Files.createSymbolicLink(layer.resolve("abs"), Path.of("/etc"));
        Files.createSymbolicLink(layer.resolve("up"), Path.of("etc/../../.."));
    }

    @AfterEach
    void stop() throws IOException {
        h.close();
    }

    static ContainerConfig withVolume(String image, String subPath) {
        return ContainerHarness.config("web", "sleep", "100000").toBuilder()
                .addMounts(Mount.newBuilder()
                        .setContainerPath("/data")
                        .setImage(ImageSpec.newBuilder().setImage(image))
                        .setImageSubPath(subPath))
                .build();
    }

    Spec spec(String id) throws IOException {
        return SpecJson.read(h.env.bundle(id).resolve("config.json"));
    }

    io.stevedore.oci.spec.Mount dataMount(String id) throws IOException {
        return spec(id).mounts().stream()
                .filter(m -> m.destination().equals("/data"))
                .findFirst()
                .orElseThrow();
    }

    @Test
    void create_imageVolume_isMountedUnderTheBundleAndBoundReadOnly() throws IOException {
        String id = h.service.create(ContainerHarness.POD, withVolume("data:1", ""));

        Path volume = h.env.bundle(id).resolve("image-volumes/0");
        assertTrue(h.rootfs.mounted.contains(volume), h.rootfs.mounted.toString());
        var m = dataMount(id);
        assertEquals(volume.toRealPath().toString(), m.source());
        assertTrue(m.options().contains("ro"), m.options().toString());
        assertFalse(m.options().contains("rw"), m.options().toString());
        assertEquals(
                "hello from the image\n", Files.readString(Path.of(m.source()).resolve("etc/app/data.txt")));
    }

    @Test
    void create_subPath_bindsThePathInsideTheImage_followingLinksThere() throws IOException {
        String plain = h.service.create(ContainerHarness.POD, withVolume("data:1", "etc/app"));
        Path expected = h.env.bundle(plain).resolve("image-volumes/0/etc/app").toRealPath();
        assertEquals(expected.toString(), dataMount(plain).source());
        h.service.remove(plain);

        String viaLink = h.service.create(ContainerHarness.POD, withVolume("data:1", "cfg/data.txt"));
        Path file = h.env.bundle(viaLink)
                .resolve("image-volumes/0/etc/app/data.txt")
                .toRealPath();
        assertEquals(file.toString(), dataMount(viaLink).source());
    }

    @Test
    void create_imageVolumeLayers_areKeptFromGarbageCollection() {
        h.service.create(ContainerHarness.POD, withVolume("data:1", ""));
        ContainerRecord r = h.service.records().getFirst();
        assertEquals(List.of(ContainerHarness.DATA_CHAIN_ID), r.meta().imageVolumeLayers());
        assertTrue(r.snapshotsInUse().containsAll(r.layers()));
        assertTrue(r.snapshotsInUse().contains(ContainerHarness.DATA_CHAIN_ID));
    }

    @Test
    void create_missingImage_isNotFound_andLeavesNothing() throws IOException {
        var e = assertThrows(
                CriException.NotFound.class, () -> h.service.create(ContainerHarness.POD, withVolume("nope:1", "")));
        assertEquals("create container \"web\": image volume \"/data\": image \"nope:1\" not found", e.getMessage());
        assertEquals(Set.of(), h.rootfs.mounted);
        assertEquals(List.of(), list(h.env.bundles()));
        h.create("web"); // the name was released
    }

    @ParameterizedTest
    @ValueSource(
            strings = {"/etc", "../etc", "etc/../../x", "abs", "abs/passwd", "up", "missing", "etc/app/data.txt/x"})
    void create_subPathOutsideOrNotInTheImage_isInvalidArgument_andLeavesNothing(String subPath) throws IOException {
        var e = assertThrows(
                CriException.InvalidArgument.class,
                () -> h.service.create(ContainerHarness.POD, withVolume("data:1", subPath)));
        assertTrue(e.getMessage().contains("image_sub_path \"" + subPath + "\""), e.getMessage());
        assertEquals(Set.of(), h.rootfs.mounted, "the volume mounted before the check is unmounted");
        assertEquals(List.of(), list(h.env.bundles()));
    }

    @Test
    void exitAndRemove_unmountTheVolumes() throws IOException {
        String id = h.service.create(ContainerHarness.POD, withVolume("data:1", ""));
        h.service.start(id);
        h.service.stop(id, 0);
        await().atMost(Duration.ofSeconds(10)).until(() -> h.rootfs.mounted.isEmpty());
        h.service.remove(id);
        assertEquals(Set.of(), h.rootfs.mounted);
        assertEquals(List.of(), list(h.env.bundles()));
    }

    @Test
    void recovery_strayBundle_hasItsVolumesUnmountedAndIsRemoved() throws IOException {
        Path stray = h.env.bundles().resolve("f".repeat(64));
        Path volume = Files.createDirectories(stray.resolve("image-volumes/0"));
        h.rootfs.mounted.add(volume);
        h.rootfs.mounted.add(stray.resolve("rootfs"));

        h.open();

        assertEquals(Set.of(), h.rootfs.mounted);
        assertFalse(Files.exists(stray));
    }

    @Test
    void subPathParts_acceptsRelativePathsOnly() {
        assertEquals(List.of("a", "b"), ImageVolumes.subPathParts("./a//b/", "x"));
        assertEquals(List.of(), ImageVolumes.subPathParts("", "x"));
        assertThrows(CriException.InvalidArgument.class, () -> ImageVolumes.subPathParts("a\n", "x"));
    }

    private static List<Path> list(Path d) throws IOException {
        if (!Files.isDirectory(d)) return List.of();
        try (Stream<Path> s = Files.list(d)) {
            return s.toList();
        }
    }
}

package io.stevedore.server.image.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.server.image.ref.Digest;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ManifestsTest {
    static final String A = "sha256:" + "a".repeat(64);
    static final String B = "sha256:" + "b".repeat(64);

    static String manifest(String type, String configType, String layerType) {
        return """
        {"schemaVersion":2,%s"config":{"mediaType":"%s","digest":"%s","size":7},
         "layers":[{"mediaType":"%s","digest":"%s","size":42,"annotations":{"k":"v"}}]}""".formatted(type == null ? "" : "\"mediaType\":\"" + type + "\",", configType, A, layerType, B);
    }

    static String index(String type, String... platforms) {
        StringBuilder entries = new StringBuilder();
        for (int i = 0; i < platforms.length; i++) {
            String[] p = platforms[i].split("/");
            String hex = Integer.toHexString(i + 1).repeat(64).substring(0, 64);
            entries.append(i == 0 ? "" : ",")
                    .append("{\"mediaType\":\"")
                    .append(MediaTypes.OCI_MANIFEST)
                    .append("\",\"digest\":\"sha256:")
                    .append(hex)
                    .append("\",\"size\":")
                    .append(100 + i)
                    .append(",\"platform\":{\"os\":\"")
                    .append(p[0])
                    .append("\",\"architecture\":\"")
                    .append(p[1])
                    .append('"')
                    .append(p.length > 2 ? ",\"variant\":\"" + p[2] + "\"" : "")
                    .append("}}");
        }
        return "{\"schemaVersion\":2," + (type == null ? "" : "\"mediaType\":\"" + type + "\",") + "\"manifests\":["
                + entries + "]}";
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void parse_ociManifest_readsConfigAndLayers() throws Exception {
        var doc = Manifests.parse(
                MediaTypes.OCI_MANIFEST,
                bytes(manifest(MediaTypes.OCI_MANIFEST, MediaTypes.OCI_CONFIG, MediaTypes.OCI_LAYER_GZIP)));
        var m = assertInstanceOf(ImageManifest.class, doc);
        assertEquals(MediaTypes.OCI_MANIFEST, m.mediaType());
        assertEquals(Descriptor.of(MediaTypes.OCI_CONFIG, Digest.of(A), 7), m.config());
        assertEquals(1, m.layers().size());
        assertEquals(42, m.layers().getFirst().size());
        assertEquals("v", m.layers().getFirst().annotations().get("k"));
    }

    @Test
    void parse_dockerSchema2_fromBodyWhenHeaderIsGeneric() throws Exception {
        var doc = Manifests.parse(
                "application/json; charset=utf-8",
                bytes(manifest(MediaTypes.DOCKER_MANIFEST, MediaTypes.DOCKER_CONFIG, MediaTypes.DOCKER_LAYER)));
        assertEquals(
                MediaTypes.DOCKER_MANIFEST,
                assertInstanceOf(ImageManifest.class, doc).mediaType());
    }

    @Test
    void parse_ociManifestWithoutMediaType_recognisedByShape() throws Exception {
        var doc = Manifests.parse(null, bytes(manifest(null, MediaTypes.OCI_CONFIG, MediaTypes.OCI_LAYER)));
        assertEquals(MediaTypes.OCI_MANIFEST, doc.mediaType());
    }

    @Test
    void parse_indexAndManifestList() throws Exception {
        var oci = Manifests.parse(MediaTypes.OCI_INDEX, bytes(index(MediaTypes.OCI_INDEX, "linux/amd64")));
        assertEquals(1, assertInstanceOf(ImageIndex.class, oci).manifests().size());
        var list = Manifests.parse(
                MediaTypes.DOCKER_MANIFEST_LIST,
                bytes(index(MediaTypes.DOCKER_MANIFEST_LIST, "linux/arm64/v8", "linux/amd64")));
        var idx = assertInstanceOf(ImageIndex.class, list);
        assertEquals(
                Optional.of(Platform.of("linux/arm64")),
                idx.manifests().getFirst().platform());
    }

    @ParameterizedTest
    @ValueSource(strings = {MediaTypes.DOCKER_SCHEMA1, MediaTypes.DOCKER_SCHEMA1_SIGNED})
    void parse_schema1_refused(String type) {
        String body = "{\"schemaVersion\":1,\"name\":\"x\",\"tag\":\"latest\",\"fsLayers\":[]}";
        var e = assertThrows(ManifestException.class, () -> Manifests.parse(type, bytes(body)));
        assertTrue(e.getMessage().startsWith("schema 1 manifests are not supported"), e.getMessage());
        assertThrows(ManifestException.class, () -> Manifests.parse("application/json", bytes(body)));
    }

    @Test
    void parse_headerContradictsBody_refused() {
        var e = assertThrows(
                ManifestException.class,
                () -> Manifests.parse(
                        MediaTypes.OCI_INDEX,
                        bytes(manifest(MediaTypes.OCI_MANIFEST, MediaTypes.OCI_CONFIG, MediaTypes.OCI_LAYER))));
        assertTrue(e.getMessage().contains("mediaType field says"), e.getMessage());
    }

    @Test
    void parse_unknownType_refused() {
        var e = assertThrows(
                ManifestException.class, () -> Manifests.parse("application/vnd.example+json", bytes("{}")));
        assertTrue(e.getMessage().contains("unsupported manifest media type"), e.getMessage());
    }

    @Test
    void parse_oversized_refused() {
        byte[] big = new byte[Manifests.MAX_SIZE + 1];
        var e = assertThrows(ManifestException.class, () -> Manifests.parse(MediaTypes.OCI_MANIFEST, big));
        assertTrue(e.getMessage().contains("limit"), e.getMessage());
    }

    @Test
    void parse_badDigestInLayer_refused() {
        String body = manifest(MediaTypes.OCI_MANIFEST, MediaTypes.OCI_CONFIG, MediaTypes.OCI_LAYER)
                .replace(B, "sha256:zz");
        var e = assertThrows(ManifestException.class, () -> Manifests.parse(MediaTypes.OCI_MANIFEST, bytes(body)));
        assertTrue(e.getMessage().contains("layers[0]"), e.getMessage());
    }

    @Test
    void select_default_picksLinuxAmd64() throws Exception {
        var idx = (ImageIndex)
                Manifests.parse(null, bytes(index(null, "linux/arm64/v8", "linux/amd64", "windows/amd64")));
        assertEquals(101, idx.select().size());
    }

    @Test
    void select_armV7_prefersExactThenOlder() throws Exception {
        var idx = (ImageIndex) Manifests.parse(null, bytes(index(null, "linux/arm/v6", "linux/arm/v7", "linux/amd64")));
        assertEquals(101, idx.select(Platform.of("linux/arm/v7")).size());
        assertEquals(100, idx.select(Platform.of("linux/armel")).size(), "v6 runs only v6");
        var onlyV6 = (ImageIndex) Manifests.parse(null, bytes(index(null, "linux/arm/v6")));
        assertEquals(100, onlyV6.select(Platform.of("linux/arm/v7")).size(), "v7 runs v6 images");
    }

    @Test
    void select_arm64WithoutVariant_isV8() throws Exception {
        var idx = (ImageIndex) Manifests.parse(null, bytes(index(null, "linux/amd64", "linux/arm64")));
        assertEquals(101, idx.select(Platform.of("linux/aarch64/v8")).size());
    }

    @Test
    void select_noMatch_listsAvailable() throws Exception {
        var idx =
                (ImageIndex) Manifests.parse(null, bytes(index(null, "linux/arm64", "linux/s390x", "unknown/unknown")));
        var e = assertThrows(ManifestException.class, idx::select);
        assertEquals(
                "no manifest for platform linux/amd64 in the image index; available: "
                        + "linux/arm64/v8, linux/s390x, unknown/unknown",
                e.getMessage());
    }

    @Test
    void imageConfig_parse_readsRuntimeFields() throws Exception {
        String json = """
        {"created":"2024-01-02T03:04:05.123456789Z","architecture":"amd64","os":"linux",
         "config":{"User":"1000:1000","Env":["PATH=/bin","A=b"],"Entrypoint":["/init"],"Cmd":["sh"],
           "WorkingDir":"/w","Labels":{"l":"v"},"StopSignal":"SIGTERM",
           "ExposedPorts":{"80/tcp":{}},"Volumes":{"/data":{}}},
         "rootfs":{"type":"layers","diff_ids":["%s","%s"]}}""".formatted(A, B);
        var c = ImageConfig.parse(bytes(json));
        assertEquals("1000:1000", c.user());
        assertEquals(List.of("PATH=/bin", "A=b"), c.env());
        assertEquals(List.of("/init"), c.entrypoint());
        assertEquals(List.of("sh"), c.cmd());
        assertEquals("/w", c.workingDir());
        assertEquals("v", c.labels().get("l"));
        assertEquals("SIGTERM", c.stopSignal());
        assertEquals(Set.of("80/tcp"), c.exposedPorts());
        assertEquals(Set.of("/data"), c.volumes());
        assertEquals("linux", c.os());
        assertEquals("amd64", c.architecture());
        assertEquals(List.of(Digest.of(A), Digest.of(B)), c.diffIds());
        assertEquals(Optional.of(Instant.parse("2024-01-02T03:04:05.123456789Z")), c.created());
        assertEquals(json, c.raw());
    }

    @Test
    void imageConfig_parse_minimal_defaultsEmpty() throws Exception {
        var c = ImageConfig.parse(bytes("{\"os\":\"linux\"}"));
        assertEquals("", c.user());
        assertEquals(List.of(), c.cmd());
        assertEquals(Optional.empty(), c.created());
        assertThrows(ManifestException.class, () -> ImageConfig.parse(bytes("[")));
    }
}

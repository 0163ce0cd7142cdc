package io.stevedore.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.StatusRuntimeException;
import io.stevedore.conformance.registry.HostileRegistry;
import io.stevedore.conformance.registry.HostileRegistry.Behaviour;
import io.stevedore.conformance.registry.TarWriter;
import io.stevedore.conformance.registry.TestImages;
import io.stevedore.cri.v1.ImageSpec;
import io.stevedore.cri.v1.ListImagesRequest;
import io.stevedore.cri.v1.PullImageRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Registries that lie, through the daemon's socket: every pull must fail with an error that says
 * what was wrong, and leave no image, no snapshot and no partial download behind.
 */
@RequiresRoot
class HostileRegistryIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Started first: the daemon's configuration names its address. */
    static final HostileRegistry registry = HostileRegistry.startOrFail();

    /** The registry is configured as plain HTTP, as an operator would write it in hosts.toml. */
    @RegisterExtension
    static final LiveDaemon daemon = LiveDaemon.withConfig(dir -> {
        try {
            Path hosts = Files.createDirectories(dir.resolve("certs.d").resolve(registry.host()));
            Files.writeString(hosts.resolve("hosts.toml"), "server = \"http://" + registry.host() + "\"\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return "[image]\nregistry_config_dir = \"" + dir + "/certs.d\"\nno_progress_timeout = \"1s\"\n";
    });

    @AfterAll
    static void stop() {
        registry.close();
    }

    /** Serves an image of one uncompressed layer whose blob is {@code served} instead of {@code tar}. */
    private static String image(String repo, byte[] tar, byte[] served, Behaviour how) throws IOException {
        String layerDigest = TestImages.digest(tar);
        ObjectNode cfg = JSON.createObjectNode().put("architecture", "amd64").put("os", "linux");
        cfg.putObject("config").putArray("Cmd").add("/x");
        cfg.putObject("rootfs").put("type", "layers").putArray("diff_ids").add(layerDigest);
        byte[] config = JSON.writeValueAsBytes(cfg);
        ObjectNode m = JSON.createObjectNode().put("schemaVersion", 2).put("mediaType", TestImages.OCI_MANIFEST);
        m.putObject("config")
                .put("mediaType", TestImages.OCI_CONFIG)
                .put("digest", TestImages.digest(config))
                .put("size", config.length);
        m.putArray("layers")
                .addObject()
                .put("mediaType", TestImages.OCI_LAYER)
                .put("digest", layerDigest)
                .put("size", tar.length);
        registry.blob(repo, TestImages.digest(config), config, Behaviour.NORMAL);
        registry.blob(repo, layerDigest, served, how);
        registry.manifest(repo, "v1", TestImages.OCI_MANIFEST, JSON.writeValueAsBytes(m));
        return registry.host() + "/" + repo + ":v1";
    }

    private static byte[] layer() throws IOException {
        return TestImages.tar(List.of(TarWriter.Entry.file("data", "x".repeat(64 * 1024), 0644)));
    }

    private static StatusRuntimeException pullFails(String ref) {
        return assertThrows(
                StatusRuntimeException.class,
                () -> daemon.client()
                        .images()
                        .pullImage(PullImageRequest.newBuilder()
                                .setImage(ImageSpec.newBuilder().setImage(ref))
                                .build()));
    }

    @AfterEach
    void nothingLeftBehind() throws IOException {
        Path root = daemon.process().root();
        assertEquals(
                0,
                daemon.client()
                        .images()
                        .listImages(ListImagesRequest.getDefaultInstance())
                        .getImagesCount());
        try (Stream<Path> s = Files.list(root.resolve("snapshots"))) {
            assertEquals(List.of(), s.toList(), "no snapshot, finished or not");
        }
        try (Stream<Path> s = Files.list(root.resolve("content/ingest"))) {
            assertEquals(List.of(), s.toList(), "no partial download");
        }
    }

    @Test
    void layerNotMatchingItsDigest_isRefused() throws IOException {
        byte[] tar = layer();
        byte[] forged = tar.clone();
        forged[600] ^= 1; // inside the file's content: still a valid tar
        var e = pullFails(image("evil/forged", tar, forged, Behaviour.NORMAL));
        assertTrue(
                e.getStatus().getDescription().contains("digest mismatch"),
                e.getStatus().getDescription());
    }

    @Test
    void truncatedBlob_isRefused() throws IOException {
        byte[] tar = layer();
        var e = pullFails(image("evil/short", tar, tar, Behaviour.TRUNCATE));
        assertTrue(
                e.getStatus().getDescription().contains("evil/short"),
                e.getStatus().getDescription());
    }

    @Test
    void blobThatStalls_failsAtTheNoProgressTimeout() throws IOException {
        byte[] tar = layer();
        var e = pullFails(image("evil/stall", tar, tar, Behaviour.STALL));
        assertTrue(
                e.getStatus().getDescription().contains("no data for 1000 ms"),
                e.getStatus().getDescription());
    }

    @Test
    void schema1Manifest_isRefused() {
        registry.manifest(
                "evil/old",
                "v1",
                "application/vnd.docker.distribution.manifest.v1+prettyjws",
                "{\"schemaVersion\":1}".getBytes(StandardCharsets.UTF_8));
        var e = pullFails(registry.host() + "/evil/old:v1");
        assertTrue(
                e.getStatus().getDescription().contains("schema 1"),
                e.getStatus().getDescription());
    }

    @Test
    void oversizedManifest_isRefused() {
        byte[] huge = ("{\"schemaVersion\":2,\"pad\":\"" + "x".repeat(5 * 1024 * 1024) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        registry.manifest("evil/huge", "v1", TestImages.OCI_MANIFEST, huge);
        var e = pullFails(registry.host() + "/evil/huge:v1");
        assertTrue(
                e.getStatus().getDescription().contains("limit"), e.getStatus().getDescription());
        assertFalse(e.getStatus().getDescription().isEmpty());
    }
}

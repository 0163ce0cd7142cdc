package io.stevedore.conformance.registry;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.airlift.compress.v3.zstd.ZstdJavaOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/**
 * Builds test images from tar entries and pushes them to a {@link TestRegistry} over the
 * distribution API (monolithic blob uploads, then the manifest), the way the suite gets every
 * image it pulls: made here, never fetched from the network.
 *
 * {@snippet :
 * var images = new TestImages(registry);
 * Pushed img = images.push("test/hello", "v1", TestImages.Config.cmd("/hello"),
 *     List.of(TarWriter.Entry.file("hello", "hi\n", 0755)));
 * }
 */
public final class TestImages {
    public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    public static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
    public static final String OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
    public static final String OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";
    public static final String OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
    public static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    public static final String DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
    public static final String DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip";

    private static final ObjectMapper JSON = new ObjectMapper();
    private final String host;
    private final HttpClient http = HttpClient.newHttpClient();

    public TestImages(TestRegistry registry) {
        this(registry.host());
    }

    /** Pushes to the plain-HTTP registry at {@code host} ({@code 127.0.0.1:5000}). */
    public TestImages(String host) {
        this.host = host;
    }

    /** What was pushed: the reference to pull and the digests to expect. */
    public record Pushed(String reference, String manifestDigest, String configDigest, long size) {}

    /** The image config fields tests care about. */
    public record Config(String user, List<String> env, List<String> entrypoint, List<String> cmd, String workingDir) {
        public static Config cmd(String... cmd) {
            return new Config(
                    "",
                    List.of("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
                    List.of(),
                    List.of(cmd),
                    "/");
        }

        public Config withUser(String u) {
            return new Config(u, env, entrypoint, cmd, workingDir);
        }
    }

    /** How a layer blob is compressed. */
    public enum Compression {
        NONE(OCI_LAYER),
        GZIP(OCI_LAYER_GZIP),
        ZSTD(OCI_LAYER_ZSTD);

        final String mediaType;

        Compression(String mediaType) {
            this.mediaType = mediaType;
        }
    }

    /** One layer: its entries and its compression. */
    public record Layer(List<TarWriter.Entry> entries, Compression compression) {
        /** A gzip layer, what most registries serve. */
        public static Layer of(TarWriter.Entry... entries) {
            return new Layer(List.of(entries), Compression.GZIP);
        }
    }

    /** An OCI image of gzip layers. */
    public Pushed push(String repo, String tag, Config config, List<TarWriter.Entry> entries)
            throws IOException, InterruptedException {
        return push(repo, tag, config, List.of(new Layer(entries, Compression.GZIP)), false);
    }

    /**
     * An image of several layers, as an OCI or (with {@code docker}) a Docker schema 2 manifest.
     */
    public Pushed push(String repo, String tag, Config config, List<Layer> layers, boolean docker)
            throws IOException, InterruptedException {
        ArrayNode layerDescs = JSON.createArrayNode();
        ArrayNode diffIds = JSON.createArrayNode();
        long size = 0;
        for (Layer l : layers) {
            byte[] tar = tar(l.entries());
            byte[] blob = switch (l.compression()) {
                case NONE -> tar;
                case GZIP -> gzip(tar);
                case ZSTD -> zstd(tar);
            };
            diffIds.add(digest(tar));
            String d = uploadBlob(repo, blob);
            String type = docker ? DOCKER_LAYER : l.compression().mediaType;
            layerDescs.add(descriptor(type, d, blob.length));
            size += blob.length;
        }
        ObjectNode cfg = JSON.createObjectNode();
        cfg.put("created", "2020-01-01T00:00:00Z").put("architecture", "amd64").put("os", "linux");
        ObjectNode c = cfg.putObject("config");
        if (!config.user().isEmpty()) {
            c.put("User", config.user());
        }
        config.env().forEach(c.putArray("Env")::add);
        if (!config.entrypoint().isEmpty()) {
            config.entrypoint().forEach(c.putArray("Entrypoint")::add);
        }
        config.cmd().forEach(c.putArray("Cmd")::add);
        c.put("WorkingDir", config.workingDir());
        cfg.putObject("rootfs").put("type", "layers").set("diff_ids", diffIds);
        byte[] cfgBytes = JSON.writeValueAsBytes(cfg);
        String cfgDigest = uploadBlob(repo, cfgBytes);

        ObjectNode m = JSON.createObjectNode();
        m.put("schemaVersion", 2).put("mediaType", docker ? DOCKER_MANIFEST : OCI_MANIFEST);
        m.set("config", descriptor(docker ? DOCKER_CONFIG : OCI_CONFIG, cfgDigest, cfgBytes.length));
        m.set("layers", layerDescs);
        byte[] manifest = JSON.writeValueAsBytes(m);
        String manifestDigest = putManifest(repo, tag, docker ? DOCKER_MANIFEST : OCI_MANIFEST, manifest);
        return new Pushed(
                host + "/" + repo + ":" + tag, manifestDigest, cfgDigest, size + cfgBytes.length + manifest.length);
    }

    /** An OCI index over already-pushed manifests, each with its {@code os/arch[/variant]}. */
    public String pushIndex(String repo, String tag, List<String> platforms, List<Pushed> manifests)
            throws IOException, InterruptedException {
        ArrayNode list = JSON.createArrayNode();
        for (int i = 0; i < manifests.size(); i++) {
            byte[] body = get(URI.create("http://" + host + "/v2/" + repo + "/manifests/"
                    + manifests.get(i).manifestDigest()));
            ObjectNode d = descriptor(OCI_MANIFEST, manifests.get(i).manifestDigest(), body.length);
            String[] p = platforms.get(i).split("/");
            ObjectNode plat = d.putObject("platform").put("os", p[0]).put("architecture", p[1]);
            if (p.length > 2) {
                plat.put("variant", p[2]);
            }
            list.add(d);
        }
        ObjectNode idx = JSON.createObjectNode().put("schemaVersion", 2).put("mediaType", OCI_INDEX);
        idx.set("manifests", list);
        return putManifest(repo, tag, OCI_INDEX, JSON.writeValueAsBytes(idx));
    }

    /** Uploads a blob (monolithic upload) and returns its digest. */
    public String uploadBlob(String repo, byte[] blob) throws IOException, InterruptedException {
        String digest = digest(blob);
        var start = http.send(
                HttpRequest.newBuilder(URI.create("http://" + host + "/v2/" + repo + "/blobs/uploads/"))
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.discarding());
        check(start, 202, "start upload");
        URI location = URI.create("http://" + host)
                .resolve(start.headers().firstValue("Location").orElseThrow());
        String sep = location.getQuery() == null ? "?" : "&";
        var put = http.send(
                HttpRequest.newBuilder(URI.create(location + sep + "digest=" + digest))
                        .header("Content-Type", "application/octet-stream")
                        .PUT(HttpRequest.BodyPublishers.ofByteArray(blob))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        check(put, 201, "upload " + digest);
        return digest;
    }

    private String putManifest(String repo, String tag, String type, byte[] body)
            throws IOException, InterruptedException {
        var res = http.send(
                HttpRequest.newBuilder(URI.create("http://" + host + "/v2/" + repo + "/manifests/" + tag))
                        .header("Content-Type", type)
                        .PUT(HttpRequest.BodyPublishers.ofByteArray(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        check(res, 201, "put manifest " + repo + ":" + tag);
        return digest(body);
    }

    private byte[] get(URI uri) throws IOException, InterruptedException {
        var res = http.send(
                HttpRequest.newBuilder(uri)
                        .header("Accept", OCI_MANIFEST + ", " + DOCKER_MANIFEST)
                        .build(),
                HttpResponse.BodyHandlers.ofByteArray());
        check(res, 200, "get " + uri);
        return res.body();
    }

    private static void check(HttpResponse<?> res, int expected, String what) throws IOException {
        if (res.statusCode() != expected) {
            throw new IOException(what + ": HTTP " + res.statusCode() + " " + res.body());
        }
    }

    private static ObjectNode descriptor(String type, String digest, long size) {
        return JSON.createObjectNode()
                .put("mediaType", type)
                .put("digest", digest)
                .put("size", size);
    }

    /** The tar archive of {@code entries}, in order. */
    public static byte[] tar(List<TarWriter.Entry> entries) throws IOException {
        var buf = new ByteArrayOutputStream();
        var w = new TarWriter(buf);
        for (var e : entries) {
            w.write(e);
        }
        w.finish();
        return buf.toByteArray();
    }

    public static byte[] gzip(byte[] data) throws IOException {
        var buf = new ByteArrayOutputStream();
        try (var gz = new GZIPOutputStream(buf)) {
            gz.write(data);
        }
        return buf.toByteArray();
    }

    public static byte[] zstd(byte[] data) throws IOException {
        var buf = new ByteArrayOutputStream();
        try (var z = new ZstdJavaOutputStream(buf)) {
            z.write(data);
        }
        return buf.toByteArray();
    }

    public static String digest(byte[] data) {
        try {
            return "sha256:"
                    + HexFormat.of()
                            .formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

package io.stevedore.server.image;

import io.stevedore.oci.linux.LinuxSyscalls;
import io.stevedore.oci.linux.SyscallException;
import io.stevedore.oci.linux.Syscalls;
import io.stevedore.server.image.content.ContentStore;
import io.stevedore.server.image.manifest.MediaTypes;
import io.stevedore.server.image.manifest.Platform;
import io.stevedore.server.image.ref.Digest;
import io.stevedore.server.image.registry.FakeRegistry;
import io.stevedore.server.image.registry.RegistryClient;
import io.stevedore.server.image.registry.RegistryHosts;
import io.stevedore.server.image.snapshot.SnapshotStore;
import io.stevedore.server.image.store.ImageStore;
import io.stevedore.server.image.unpack.LayerUnpacker;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.zip.GZIPOutputStream;

/**
 * An image service over real stores in a temp dir, pulling from an in-process registry that can
 * hold a blob back: everything the pull tests need, closed after each test.
 */
final class PullFixture implements AutoCloseable {
    static final String HOST = "registry.test";

    final FakeRegistry registry = new FakeRegistry();
    final Path state;
    final RegistryClient client;
    final ContentStore content;
    final SnapshotStore snapshots;
    final ImageStore store;
    final ImagePuller puller;
    final Set<String> inUse = ConcurrentHashMap.newKeySet();
    final ImageService images;

    /** Requests per blob digest, and the latches held blobs wait on. */
    final Map<String, AtomicInteger> blobRequests = new ConcurrentHashMap<>();

    private final Map<String, CountDownLatch> held = new ConcurrentHashMap<>();

    /** One image as published: its reference, config digest, layer blob digests and chain ids. */
    record Image(String ref, String id, String manifest, List<String> layers, List<String> chains) {}

    PullFixture(Path state, int parallelLayers) throws Exception {
        this(state, parallelLayers, new ImagePuller.Limits(1L << 30, 1L << 30));
    }

    PullFixture(Path state, int parallelLayers, ImagePuller.Limits limits) throws Exception {
        this.state = state;
        Path certs = Files.createDirectories(state.resolve("certs.d").resolve(HOST));
        Files.writeString(certs.resolve("hosts.toml"), "server = \"" + registry.origin() + "\"\n");
        client = new RegistryClient(RegistryHosts.load(state.resolve("certs.d")), Duration.ofSeconds(30));
        content = new ContentStore(state.resolve("content"));
        snapshots = new SnapshotStore(state.resolve("snapshots"), new HostCalls());
        store = new ImageStore(state.resolve("images"));
        puller = new ImagePuller(
                client,
                content,
                snapshots,
                new LayerUnpacker(new HostCalls()),
                Platform.linuxAmd64(),
                parallelLayers,
                limits);
        images = new ImageService(store, content, snapshots, puller, inUseSupplier());
        registry.interceptor = ex -> {
            String path = ex.getRequestURI().getPath();
            int b = path.indexOf("/blobs/");
            if (b > 0) {
                String digest = path.substring(b + 7);
                blobRequests.computeIfAbsent(digest, d -> new AtomicInteger()).incrementAndGet();
                CountDownLatch latch = held.get(digest);
                if (latch != null) {
                    try {
                        latch.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
            return false;
        };
    }

    private Supplier<Set<String>> inUseSupplier() {
        return () -> Set.copyOf(inUse);
    }

    /** Requests for {@code digest} wait until {@link #release} is called. */
    void hold(String digest) {
        held.put(digest, new CountDownLatch(1));
    }

    void release(String digest) {
        CountDownLatch latch = held.remove(digest);
        if (latch != null) {
            latch.countDown();
        }
    }

    int requests(String digest) {
        AtomicInteger n = blobRequests.get(digest);
        return n == null ? 0 : n.get();
    }

    /** A layer of one small file. */
    static byte[] layer(String file, String content) {
        return new io.stevedore.server.image.unpack.TestTar()
                .file(file, content, 0644)
                .bytes();
    }

    /** Publishes an image of the given (uncompressed) layer tars, gzipped, under {@code repo:v1}. */
    Image publish(String repo, List<byte[]> tars) {
        List<String> diffIds = new ArrayList<>();
        List<String> layerDigests = new ArrayList<>();
        StringBuilder layersJson = new StringBuilder();
        for (byte[] tar : tars) {
            diffIds.add(Digest.sha256(tar).toString());
            byte[] gz = gzip(tar);
            layerDigests.add(registry.putBlob(repo, gz).toString());
            layersJson
                    .append(layersJson.isEmpty() ? "" : ",")
                    .append(descriptor(MediaTypes.OCI_LAYER_GZIP, layerDigests.getLast(), gz.length));
        }
        return publishRaw(repo, diffIds, layerDigests, layersJson.toString());
    }

    /** Publishes a manifest for layers already put, whose diff ids the caller computed. */
    Image publishRaw(String repo, List<String> diffIds, List<String> layerDigests, String layersJson) {
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},\"rootfs\":{\"type\":\"layers\","
                        + "\"diff_ids\":[\"" + String.join("\",\"", diffIds) + "\"]}}")
                .getBytes(StandardCharsets.UTF_8);
        String configDigest = registry.putBlob(repo, config).toString();
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":"
                        + descriptor(MediaTypes.OCI_CONFIG, configDigest, config.length) + ",\"layers\":["
                        + layersJson + "]}")
                .getBytes(StandardCharsets.UTF_8);
        String manifestDigest = registry.putManifest(repo, "v1", MediaTypes.OCI_MANIFEST, manifest)
                .toString();
        return new Image(HOST + "/" + repo + ":v1", configDigest, manifestDigest, layerDigests, ChainIds.of(diffIds));
    }

    static String descriptor(String mediaType, String digest, long size) {
        return "{\"mediaType\":\"" + mediaType + "\",\"digest\":\"" + digest + "\",\"size\":" + size + "}";
    }

    static byte[] gzip(byte[] b) {
        var out = new ByteArrayOutputStream();
        try (var gz = new GZIPOutputStream(out)) {
            gz.write(b);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** Whether everything {@code image} needs is on disk: its config, manifest and every snapshot. */
    boolean complete(Image image) {
        return content.has(image.id())
                && content.has(image.manifest())
                && image.chains().stream().allMatch(snapshots::has);
    }

    /** Names under the snapshot root, the content store's blob and ingest dirs and the image records, sorted. */
    List<String> leftovers() throws IOException {
        List<String> out = new ArrayList<>();
        for (Path dir : List.of(
                state.resolve("snapshots"),
                state.resolve("content/blobs/sha256"),
                state.resolve("content/ingest"),
                state.resolve("images"))) {
            try (var all = Files.list(dir)) {
                all.forEach(p -> out.add(state.relativize(p).toString()));
            }
        }
        out.sort(null);
        return out;
    }

    @Override
    public void close() {
        held.values().forEach(CountDownLatch::countDown);
        client.close();
        registry.close();
    }

    /** The host's calls for an unprivileged unpack; syncfs is the interface's no-op (tests need no durability). */
    static final class HostCalls implements Syscalls {
        private final Syscalls real = new LinuxSyscalls();

        @Override
        public void mknod(Path path, int mode, int major, int minor) throws SyscallException {
            real.mknod(path, mode, major, minor);
        }

        @Override
        public void chmod(Path path, int mode) throws SyscallException {
            real.chmod(path, mode);
        }

        @Override
        public void utimensat(Path path, Instant atime, Instant mtime) throws SyscallException {
            real.utimensat(path, atime, mtime);
        }

        @Override
        public void lsetxattr(Path path, String name, byte[] value) throws SyscallException {
            real.lsetxattr(path, name, value);
        }
    }
}

package io.stevedore.server.image.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stevedore.oci.fs.AtomicFiles;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The images this node has, persisted one file per image and indexed in memory:
 *
 * <pre>
 * &lt;dir&gt;/&lt;config hex&gt;.json   {"version":"v1","id":…,"repoTags":[…],"repoDigests":[…],"size":…,"layers":[…],"pinned":…}
 * </pre>
 *
 * <p>An image is visible once its file has been written ({@link AtomicFiles}: temp file, fsync,
 * rename, directory fsync), and the pull writes it only after every blob and snapshot it needs is in
 * place: a crash mid-pull leaves no image half-visible. A tag belongs to one image at a time; {@link #put} moves it. Writers are
 * serialised on the store's lock; readers take none.
 */
public final class ImageStore {
    private static final String VERSION = "v1";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    /** By id. Guarded by {@code this} for writes; a snapshot is safe to read without it. */
    private final Map<String, ImageRecord> byId = new ConcurrentHashMap<>();

    public ImageStore(Path dir) throws IOException {
        this.dir = Files.createDirectories(dir);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                String n = f.getFileName().toString();
                if (n.endsWith(".tmp")) { // AtomicFiles' temp files, and the "<hex>.json.tmp" of before
                    Files.deleteIfExists(f);
                } else if (n.endsWith(".json")) {
                    ImageRecord r = read(f);
                    byId.put(r.id(), r);
                }
            }
        }
    }

    public Collection<ImageRecord> list() {
        return List.copyOf(byId.values());
    }

    public Optional<ImageRecord> byId(String id) {
        return Optional.ofNullable(byId.get(id));
    }

    /**
     * Finds an image by full id, unique id prefix (with or without {@code sha256:}, at least 3 hex
     * digits), canonical tag or canonical digest reference.
     */
    public Optional<ImageRecord> find(String canonicalRefOrId) {
        ImageRecord exact = byId.get(canonicalRefOrId);
        if (exact != null) {
            return Optional.of(exact);
        }
        for (ImageRecord r : byId.values()) {
            if (r.repoTags().contains(canonicalRefOrId) || r.repoDigests().contains(canonicalRefOrId)) {
                return Optional.of(r);
            }
        }
        String hex = canonicalRefOrId.startsWith("sha256:") ? canonicalRefOrId.substring(7) : canonicalRefOrId;
        if (hex.length() >= 3 && hex.matches("[0-9a-f]+")) {
            List<ImageRecord> hits = byId.values().stream()
                    .filter(r -> r.id().startsWith("sha256:" + hex))
                    .toList();
            if (hits.size() == 1) {
                return Optional.of(hits.getFirst());
            }
        }
        return Optional.empty();
    }

    /**
     * Stores {@code image}, merged with the record of the same id if there is one; its tags are
     * taken away from any other image that had them.
     *
     * @return the record as stored
     */
    public synchronized ImageRecord put(ImageRecord image) throws IOException {
        for (ImageRecord other : List.copyOf(byId.values())) {
            if (other.id().equals(image.id())) {
                continue;
            }
            ImageRecord stripped = other;
            for (String tag : image.repoTags()) {
                if (stripped.repoTags().contains(tag)) {
                    stripped = stripped.withoutTag(tag);
                }
            }
            if (stripped != other) {
                write(stripped);
            }
        }
        ImageRecord merged = byId.containsKey(image.id()) ? byId.get(image.id()).merge(image) : image;
        write(merged);
        return merged;
    }

    /**
     * Forgets the image; idempotent. The removal is durable when this returns: collection deletes
     * the image's snapshots next, and a record that came back after a power loss would name
     * snapshots that are gone.
     */
    public synchronized void remove(String id) throws IOException {
        if (Files.deleteIfExists(file(id))) {
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            }
        }
        byId.remove(id);
    }

    private void write(ImageRecord r) throws IOException {
        ObjectNode node = JSON.valueToTree(r);
        ObjectNode doc = JSON.createObjectNode().put("version", VERSION);
        doc.setAll(node);
        // 0644: names and digests of public content; nothing in a record is secret (pull auth is never stored).
        try {
            AtomicFiles.write(file(r.id()), JSON.writeValueAsBytes(doc), 0644);
        } catch (IOException e) { // the old record, if any, is left whole (AtomicFiles)
            throw new IOException("write image record " + file(r.id()) + ": " + e.getMessage(), e);
        }
        byId.put(r.id(), r);
    }

    private static ImageRecord read(Path f) throws IOException {
        JsonNode doc = JSON.readTree(f.toFile());
        String version = doc.path("version").asText();
        if (!VERSION.equals(version)) {
            throw new IOException(f + ": unsupported image record version \"" + version + "\"");
        }
        ((ObjectNode) doc).remove("version");
        return JSON.treeToValue(doc, ImageRecord.class);
    }

    private Path file(String id) {
        if (!id.matches("sha256:[0-9a-f]{64}")) {
            throw new IllegalArgumentException("not an image id: " + id);
        }
        return dir.resolve(id.substring(7) + ".json");
    }
}

package io.stevedore.server.image.content;

import io.stevedore.oci.fs.AtomicFiles;
import io.stevedore.server.error.DiskFull;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Verified blobs (manifests, configs, layers) by digest, the content store of containerd:
 *
 * <pre>
 * &lt;root&gt;/blobs/sha256/&lt;hex&gt;        complete, verified, immutable
 * &lt;root&gt;/ingest/&lt;hex&gt;-&lt;n&gt;         being written; removed on failure and at start-up
 * </pre>
 *
 * <p>A blob becomes visible only once its size and digest have been checked while it streamed in
 * and it has been committed by {@link AtomicFiles#commit} (fsync, rename into place, directory
 * fsync), so a crash never leaves a half-written blob under {@code blobs/}, and a failed ingest
 * (a full disk among others) removes its file from {@code ingest/} before it returns. Concurrent
 * {@link #ingest} calls for the same digest share one download. Thread-safe.
 */
public final class ContentStore {
    private static final Pattern SHA256 = Pattern.compile("sha256:[0-9a-f]{64}");

    private final Path blobs;
    private final Path ingest;
    private final SingleFlight<String, Path> inFlight = new SingleFlight<>("ingest-");

    /** Creates the directories and removes leftovers of interrupted ingests. */
    public ContentStore(Path root) throws IOException {
        this.blobs = Files.createDirectories(root.resolve("blobs/sha256"));
        this.ingest = Files.createDirectories(root.resolve("ingest"));
        try (Stream<Path> left = Files.list(ingest)) {
            for (Path p : left.toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Where a blob lives (whether or not it exists). */
    public Path path(String digest) {
        return blobs.resolve(hex(digest));
    }

    public boolean has(String digest) {
        return Files.isRegularFile(path(digest));
    }

    public byte[] read(String digest) throws IOException {
        return Files.readAllBytes(path(digest));
    }

    /** Every digest present. */
    public List<String> list() throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> all = Files.list(blobs)) {
            all.forEach(p -> out.add("sha256:" + p.getFileName()));
        }
        return out;
    }

    public void delete(String digest) throws IOException {
        Files.deleteIfExists(path(digest));
    }

    /** Opens the blob's content, a source for {@link #ingest}. */
    @FunctionalInterface
    public interface Source {
        InputStream open() throws IOException;
    }

    /**
     * Makes the blob present: returns at once when it already is, joins a download of the same
     * digest already under way, or streams {@code source} into the store, checking size (when
     * {@code size >= 0}) and digest.
     *
     * @throws ContentException if the content does not match; nothing is stored then
     */
    public Path ingest(String digest, long size, Source source) throws IOException, InterruptedException {
        hex(digest);
        Path done = path(digest);
        if (Files.isRegularFile(done)) {
            return done;
        }
        return inFlight.run(digest, () -> write(digest, size, source));
    }

    private Path write(String digest, long size, Source source) throws IOException {
        Path done = path(digest);
        if (Files.isRegularFile(done)) {
            return done; // another process of ours finished it between the checks
        }
        // Streamed into ingest/ rather than beside the blob, so that list() never sees a partial one
        // and start-up can clear the whole directory; the commit renames it across (same filesystem).
        Path tmp = Files.createTempFile(ingest, hex(digest) + "-", "");
        try {
            try (var in = new DigestingInputStream(source.open(), size, "blob " + digest);
                    OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.WRITE)) {
                in.transferTo(out);
                in.verify(digest);
            }
            // Read-only: a blob is immutable, and its digest is its name.
            AtomicFiles.commit(tmp, done, 0444);
            return done;
        } catch (IOException e) {
            deleteAfterFailure(tmp, e);
            // The JDK says only "No space left on device": name what was being written, and where.
            throw DiskFull.is(e)
                    ? new IOException("write blob " + digest + " into " + ingest + ": " + e.getMessage(), e)
                    : e;
        } catch (RuntimeException | Error e) {
            deleteAfterFailure(tmp, e);
            throw e;
        }
    }

    /** Removes a failed ingest's file; a failure to do so never hides why the ingest failed. */
    private static void deleteAfterFailure(Path tmp, Throwable cause) {
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException | RuntimeException e) {
            cause.addSuppressed(e);
        }
    }

    private static String hex(String digest) {
        if (!SHA256.matcher(digest).matches()) {
            throw new IllegalArgumentException("not a sha256 digest: " + digest);
        }
        return digest.substring("sha256:".length());
    }
}

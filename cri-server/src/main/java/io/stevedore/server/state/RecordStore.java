package io.stevedore.server.state;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * One JSON file per object, {@code <dir>/<id>.json}, each written as temp file + fsync + rename +
 * directory fsync: after a crash a record is either the old one or the new one, never torn. The
 * store is the single source of truth for sandbox and container metadata; callers serialize
 * writes per id.
 *
 * @param <T> the record type (a Jackson-serializable record)
 */
public final class RecordStore<T> {
    private static final ObjectMapper JSON =
            new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    private static final String SUFFIX = ".json";

    private final Path dir;
    private final Class<T> type;

    public RecordStore(Path dir, Class<T> type) throws IOException {
        this.dir = Files.createDirectories(dir);
        this.type = type;
    }

    /** Writes {@code record} for {@code id}, replacing what was there. */
    public void put(String id, T record) {
        Path file = dir.resolve(id + SUFFIX);
        Path tmp = dir.resolve("." + id + SUFFIX + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(
                    tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ch.write(java.nio.ByteBuffer.wrap(JSON.writeValueAsBytes(record)));
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            syncDir();
        } catch (IOException e) {
            throw new UncheckedIOException("write " + file, e);
        }
    }

    /** Removes the record of {@code id}; a missing one is fine. */
    public void remove(String id) {
        try {
            Files.deleteIfExists(dir.resolve(id + SUFFIX));
            syncDir();
        } catch (IOException e) {
            throw new UncheckedIOException("remove " + dir.resolve(id + SUFFIX), e);
        }
    }

    /**
     * Every stored record; unreadable files are handed to {@code bad} (with the reason) and skipped,
     * so one corrupt record never stops the daemon. Leftover temp files are deleted.
     */
    public List<T> loadAll(BiConsumer<Path, Exception> bad) throws IOException {
        var out = new ArrayList<T>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (name.startsWith(".") && name.endsWith(".tmp")) {
                    Files.deleteIfExists(p);
                } else if (name.endsWith(SUFFIX)) {
                    try {
                        out.add(JSON.readValue(p.toFile(), type));
                    } catch (NoSuchFileException e) {
                        // removed concurrently: nothing to load
                    } catch (IOException | RuntimeException e) {
                        bad.accept(p, e);
                    }
                }
            }
        }
        return out;
    }

    private void syncDir() throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}

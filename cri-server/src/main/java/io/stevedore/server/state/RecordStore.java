package io.stevedore.server.state;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stevedore.oci.fs.AtomicFiles;
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
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiConsumer;

/**
 * One JSON file per object, {@code <dir>/<id>.json}, each written by {@link AtomicFiles} (temp file
 * + fsync + rename + directory fsync): after a crash a record is either the old one or the new one,
 * never torn. The store is the single source of truth for sandbox and container metadata; callers
 * serialize writes per id.
 *
 * <p>Every file carries its format version: {@code {"version": 2, "record": {...}}}. A file of an
 * older version (a bare record, written before versions existed, is version 1) goes through the
 * store's {@link Migration} when it is loaded; a file of a newer version than the store knows is
 * refused with {@link UnknownVersion}, and left where it is: a newer daemon wrote it, and an older
 * one must not guess at it, nor delete what it describes. A file that cannot be read at all (torn
 * by a disk, edited by hand) is moved aside to {@code <dir>/unreadable/}, where an operator finds
 * it; its id is still reported by {@link #setAside}, so what it describes is never taken for a
 * leftover.
 *
 * @param <T> the record type (a Jackson-serializable record)
 */
public final class RecordStore<T> {
    private static final ObjectMapper JSON =
            new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    private static final String SUFFIX = ".json";
    private static final String ASIDE = "unreadable";

    /** The version of a bare record, from before files carried one. */
    public static final int UNVERSIONED = 1;

    private final Path dir;
    private final Class<T> type;
    private final int version;
    private final Migration migration;
    private final Writer writer;

    /** A store whose records are at version 2, the first versioned one; bare files load as they are. */
    public RecordStore(Path dir, Class<T> type) throws IOException {
        this(dir, type, 2, (from, record) -> record);
    }

    /**
     * @param version the format version this daemon writes (at least 2)
     * @param migration brings a record of an older version to {@code version}
     */
    public RecordStore(Path dir, Class<T> type, int version, Migration migration) throws IOException {
        this(dir, type, version, migration, AtomicFiles::write);
    }

    /** @param writer replaces a record's file; {@link AtomicFiles} but in tests that make it fail */
    RecordStore(Path dir, Class<T> type, int version, Migration migration, Writer writer) throws IOException {
        if (version <= UNVERSIONED) throw new IllegalArgumentException("version must be above " + UNVERSIONED);
        this.dir = Files.createDirectories(dir);
        this.type = type;
        this.version = version;
        this.migration = migration;
        this.writer = writer;
    }

    /** Replaces a file whole or not at all, as {@link AtomicFiles#write(Path, byte[], int)} does. */
    @FunctionalInterface
    interface Writer {
        void write(Path file, byte[] data, int mode) throws IOException;
    }

    /** Brings a stored record of an older format version up to the current one. */
    @FunctionalInterface
    public interface Migration {
        /** @param from the record's version, {@link #UNVERSIONED} for a bare one */
        ObjectNode migrate(int from, ObjectNode record) throws IOException;
    }

    /** A record written in a format version newer than this daemon's: refused, and left in place. */
    public static final class UnknownVersion extends IOException {
        private final int found;

        UnknownVersion(Path file, int found, int known) {
            super(file + ": format version " + found + " is newer than this daemon's " + known
                    + "; refusing to read it (written by a newer stevedore?)");
            this.found = found;
        }

        public int found() {
            return found;
        }
    }

    /**
     * Writes {@code record} for {@code id}, replacing what was there, through {@link AtomicFiles}: mode
     * 0600, as a record holds the CRI config and with it the containers' environment (credentials,
     * often) and annotations. A failed write (a full disk, say) leaves the previous record as it was and
     * no temp file; the exception names the file and carries the cause's message.
     */
    public void put(String id, T record) {
        Path file = dir.resolve(id + SUFFIX);
        try {
            ObjectNode envelope = JSON.createObjectNode();
            envelope.put("version", version);
            envelope.set("record", JSON.valueToTree(record));
            writer.write(file, JSON.writeValueAsBytes(envelope), 0600);
        } catch (IOException e) {
            throw new UncheckedIOException("write " + file + ": " + e.getMessage(), e);
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
     * Every stored record; unreadable files are handed to {@code bad} (with the reason: an {@link
     * UnknownVersion} for a record from a newer daemon) and skipped, so one corrupt record never stops
     * the daemon. A corrupt one is moved aside first, and {@code bad} gets the path it has now; one
     * of a newer version stays. Leftover temp files are deleted.
     */
    public List<T> loadAll(BiConsumer<Path, Exception> bad) throws IOException {
        var out = new ArrayList<T>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (AtomicFiles.isTempName(name)) {
                    Files.deleteIfExists(p);
                } else if (name.endsWith(SUFFIX)) {
                    try {
                        out.add(read(p));
                    } catch (NoSuchFileException e) {
                        // removed concurrently: nothing to load
                    } catch (UnknownVersion e) {
                        bad.accept(p, e);
                    } catch (IOException | RuntimeException e) {
                        bad.accept(moveAside(p), e);
                    }
                }
            }
        }
        return out;
    }

    /**
     * The ids of the records moved aside by this or an earlier start (those of a newer version,
     * left in place, are reported by {@link #loadAll} each time). Recovery leaves what they own
     * alone.
     */
    public Set<String> setAside() throws IOException {
        Set<String> ids = new TreeSet<>();
        Path d = dir.resolve(ASIDE);
        if (!Files.isDirectory(d)) return ids;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(d, "*" + SUFFIX)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                ids.add(name.substring(0, name.length() - SUFFIX.length()));
            }
        }
        return ids;
    }

    private Path moveAside(Path p) {
        try {
            Path aside = Files.createDirectories(dir.resolve(ASIDE)).resolve(p.getFileName());
            Files.move(p, aside, StandardCopyOption.REPLACE_EXISTING);
            syncDir();
            return aside;
        } catch (IOException e) {
            return p; // left where it is: still never taken for a leftover
        }
    }

    private T read(Path p) throws IOException {
        JsonNode tree = JSON.readTree(p.toFile());
        if (!(tree instanceof ObjectNode node)) {
            throw new IOException(p + ": not a JSON object");
        }
        int found = UNVERSIONED;
        ObjectNode record = node;
        if (node.has("version") && node.get("record") instanceof ObjectNode inner) {
            found = node.get("version").asInt(-1);
            record = inner;
        }
        if (found > version) {
            throw new UnknownVersion(p, found, version);
        }
        if (found < UNVERSIONED) {
            throw new IOException(p + ": format version \"" + node.get("version") + "\" is not a number");
        }
        if (found < version) {
            record = migration.migrate(found, record);
        }
        return JSON.treeToValue(record, type);
    }

    private void syncDir() throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}

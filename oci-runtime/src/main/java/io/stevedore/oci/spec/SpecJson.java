package io.stevedore.oci.spec;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.stevedore.oci.fs.AtomicFiles;
import io.stevedore.oci.fs.AtomicFiles.Durability;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * Reads and writes spec JSON ({@code config.json}, {@code process.json}, resources for
 * {@code runc update}). Unknown fields are ignored when reading; output is indented.
 *
 * <p>Thread-safe. {@link #write} is atomic and durable ({@link AtomicFiles}): readers, and the
 * machine after a crash, see the old file or the new one, never part.
 *
 * {@snippet :
 * SpecJson.write(Specs.defaults(), bundle.resolve("config.json"));
 * Spec back = SpecJson.read(bundle.resolve("config.json"));
 * }
 */
public final class SpecJson {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    private SpecJson() {}

    /**
     * Atomically and durably replaces {@code file} with {@code value} as JSON (a {@link Spec}, {@link
     * Process}…), through {@link AtomicFiles}, mode 0600: the process's environment is in it, often
     * with credentials, and only the OCI runtime (root) reads it. The directory is not created.
     */
    public static void write(Object value, Path file) throws IOException {
        write(value, file, Durability.DURABLE);
    }

    /**
     * {@link #write(Object, Path)} with a choice of durability: {@link Durability#ATOMIC_ONLY} for a
     * file on tmpfs (a bundle under the run root), still replaced atomically but without the two
     * {@code fsync}s, which buy nothing there (about a fifth of the write's I/O time, measured).
     */
    public static void write(Object value, Path file, Durability durability) throws IOException {
        AtomicFiles.write(file, toBytes(value), 0600, durability);
    }

    /** Reads a spec; {@link IOException} when the file is missing or not a valid spec. */
    public static Spec read(Path file) throws IOException {
        return read(file, Spec.class);
    }

    /** Reads any spec part ({@link Process}, {@link Resources}…). */
    public static <T> T read(Path file, Class<T> type) throws IOException {
        try {
            return MAPPER.readValue(file.toFile(), type);
        } catch (JsonProcessingException | IllegalArgumentException | NullPointerException e) {
            throw new IOException("read " + file + ": " + e.getMessage(), e);
        }
    }

    /** Parses JSON text into a spec part. */
    public static <T> T parse(String json, Class<T> type) throws IOException {
        try {
            return MAPPER.readValue(json, type);
        } catch (JsonProcessingException | IllegalArgumentException | NullPointerException e) {
            throw new IOException("parse " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    /** {@code value} as JSON text. */
    public static String toJson(Object value) {
        return new String(toBytes(value), java.nio.charset.StandardCharsets.UTF_8);
    }

    static byte[] toBytes(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("serialize " + value.getClass().getSimpleName(), e);
        }
    }
}

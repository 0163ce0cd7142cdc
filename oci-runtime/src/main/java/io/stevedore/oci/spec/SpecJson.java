package io.stevedore.oci.spec;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Reads and writes spec JSON ({@code config.json}, {@code process.json}, resources for
 * {@code runc update}). Unknown fields are ignored when reading; output is indented.
 *
 * <p>Thread-safe. {@link #write} is atomic: the file is written beside the target, forced to disk,
 * renamed over it, and the directory is forced; readers see the old file or the new one, never part.
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

    /** Atomically replaces {@code file} with {@code value} as JSON (a {@link Spec}, {@link Process}…). */
    public static void write(Object value, Path file) throws IOException {
        byte[] bytes = toBytes(value);
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = dir.resolve("." + file.getFileName() + ".tmp-"
                + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("write " + file + ": atomic rename not supported", e);
            }
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
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

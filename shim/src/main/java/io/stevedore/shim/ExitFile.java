package io.stevedore.shim;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The exit file a shim leaves when its container's init has exited: {@code <exit-dir>/<id>}
 * holding the decimal exit code, and {@code <exit-dir>/<id>.oom} beside it after an OOM kill.
 * The shim writes the marker first and each file by rename, so a reader never sees a partial
 * file, and a reader that sees the exit file also sees the marker.
 *
 * <p>Stateless and thread-safe. Reading is idempotent; {@link #remove} is too.
 */
public final class ExitFile {
    private ExitFile() {}

    /** {@code <exitDir>/<containerId>}. */
    public static Path path(Path exitDir, String containerId) {
        return exitDir.resolve(containerId);
    }

    /** {@code <exitDir>/<containerId>.oom}. */
    public static Path oomMarker(Path exitDir, String containerId) {
        return exitDir.resolve(containerId + ".oom");
    }

    /**
     * The recorded exit, or empty while the container still runs (or its shim died first).
     *
     * @throws IOException if the file cannot be read or does not hold an exit code
     */
    public static Optional<ExitStatus> read(Path exitDir, String containerId) throws IOException {
        Path file = path(exitDir, containerId);
        String text;
        try {
            text = Files.readString(file).strip();
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        int code;
        try {
            code = Integer.parseInt(text);
            return Optional.of(new ExitStatus(code, Files.exists(oomMarker(exitDir, containerId))));
        } catch (IllegalArgumentException e) {
            throw new IOException("read exit file " + file + ": not an exit code: \"" + text + "\"", e);
        }
    }

    /** Deletes the exit file and the OOM marker, if present. */
    public static void remove(Path exitDir, String containerId) throws IOException {
        Files.deleteIfExists(oomMarker(exitDir, containerId));
        Files.deleteIfExists(path(exitDir, containerId));
    }
}

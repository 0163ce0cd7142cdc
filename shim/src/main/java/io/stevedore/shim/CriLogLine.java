package io.stevedore.shim;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Objects;

/**
 * One line of a CRI container log, as the shim writes it: {@code <RFC3339Nano UTC> <stdout|stderr>
 * <P|F> <text>}. A {@code P} (partial) line continues in the next line of the same stream.
 *
 * @param time when the shim read the text
 * @param stream which stream the text came from
 * @param partial {@code true} for {@code P}: the text does not end the container's line
 * @param text the text, without the line's newline
 */
public record CriLogLine(Instant time, StdStream stream, boolean partial, String text) {
    public CriLogLine {
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(stream, "stream");
        Objects.requireNonNull(text, "text");
    }

    /** Parses one line (without its newline); throws IllegalArgumentException if malformed. */
    public static CriLogLine parse(String line) {
        String[] f = line.split(" ", 4);
        if (f.length < 3) throw new IllegalArgumentException("malformed CRI log line: " + line);
        Instant time;
        try {
            time = Instant.parse(f[0]);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("malformed CRI log timestamp: " + line, e);
        }
        StdStream stream = switch (f[1]) {
            case "stdout" -> StdStream.STDOUT;
            case "stderr" -> StdStream.STDERR;
            default -> throw new IllegalArgumentException("malformed CRI log stream: " + line);
        };
        boolean partial = switch (f[2]) {
            case "P" -> true;
            case "F" -> false;
            default -> throw new IllegalArgumentException("malformed CRI log tag: " + line);
        };
        return new CriLogLine(time, stream, partial, f.length == 4 ? f[3] : "");
    }

    /** The line as the shim writes it, without the newline (timestamp in Instant's ISO form). */
    public String format() {
        return time + " " + stream.criName() + " " + (partial ? "P" : "F") + " " + text;
    }
}

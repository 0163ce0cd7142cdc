package io.stevedore.oci.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Reads the runtime's {@code --log-format json} log: one {@code {"level","msg","time"}} object per line. */
final class RuntimeLog {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> ERROR_LEVELS = List.of("error", "fatal", "panic");

    private RuntimeLog() {}

    /** The {@code msg} of the last error-level line; lines that are not JSON are skipped. */
    static Optional<String> lastError(Path log) {
        List<String> lines;
        try {
            lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty(); // the log is a best-effort source; stderr and the exit status remain
        }
        String last = null;
        for (String line : lines) {
            if (line.isBlank() || line.charAt(0) != '{') {
                continue;
            }
            try {
                JsonNode node = JSON.readTree(line);
                if (ERROR_LEVELS.contains(node.path("level").asText())
                        && !node.path("msg").asText().isBlank()) {
                    last = node.path("msg").asText();
                }
            } catch (IOException e) {
                // a partial or foreign line: keep looking
            }
        }
        return Optional.ofNullable(last);
    }
}

package io.stevedore.server.image.manifest;

import com.fasterxml.jackson.databind.JsonNode;
import io.stevedore.server.image.ref.Digest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The parts of an OCI / Docker image config that running a container needs, plus the raw JSON for
 * {@code ImageStatus(verbose)}. Absent lists and maps are empty; absent strings are {@code ""}.
 *
 * @param user {@code config.User}, e.g. {@code 1000:1000} or {@code nobody}
 * @param entrypoint {@code config.Entrypoint}
 * @param cmd {@code config.Cmd}
 * @param exposedPorts keys of {@code config.ExposedPorts}, e.g. {@code 80/tcp}
 * @param volumes keys of {@code config.Volumes}
 * @param diffIds {@code rootfs.diff_ids}, one per layer, of the uncompressed tars
 * @param raw the config exactly as the registry served it
 */
public record ImageConfig(
        String user,
        List<String> env,
        List<String> entrypoint,
        List<String> cmd,
        String workingDir,
        Map<String, String> labels,
        String stopSignal,
        Set<String> exposedPorts,
        Set<String> volumes,
        String os,
        String architecture,
        Optional<String> variant,
        List<Digest> diffIds,
        Optional<Instant> created,
        String raw) {
    public ImageConfig {
        Objects.requireNonNull(user, "user");
        env = List.copyOf(env);
        entrypoint = List.copyOf(entrypoint);
        cmd = List.copyOf(cmd);
        labels = Map.copyOf(labels);
        exposedPorts = Set.copyOf(exposedPorts);
        volumes = Set.copyOf(volumes);
        diffIds = List.copyOf(diffIds);
    }

    /**
     * Parses a config blob.
     *
     * @throws ManifestException when it is not JSON, or a diff id is not a valid digest
     */
    public static ImageConfig parse(byte[] body) throws ManifestException {
        JsonNode root;
        try {
            root = Manifests.JSON.readTree(body);
        } catch (IOException e) {
            throw new ManifestException("image config is not valid JSON: " + Manifests.message(e), e);
        }
        if (root == null || !root.isObject()) {
            throw new ManifestException("image config is not a JSON object");
        }
        JsonNode c = root.path("config");
        List<Digest> diffIds = new ArrayList<>();
        for (JsonNode d : root.path("rootfs").path("diff_ids")) {
            try {
                diffIds.add(Digest.of(d.asText()));
            } catch (IllegalArgumentException e) {
                throw new ManifestException("image config rootfs.diff_ids: " + e.getMessage(), e);
            }
        }
        Optional<Instant> created = Optional.empty();
        String createdText = root.path("created").asText("");
        if (!createdText.isEmpty()) {
            try {
                created = Optional.of(OffsetDateTime.parse(createdText).toInstant());
            } catch (DateTimeParseException e) {
                // Informational only (ImageStatus shows it); an odd timestamp must not block a pull.
            }
        }
        String variant = root.path("variant").asText("");
        return new ImageConfig(
                c.path("User").asText(""),
                list(c.path("Env")),
                list(c.path("Entrypoint")),
                list(c.path("Cmd")),
                c.path("WorkingDir").asText(""),
                Manifests.strings(c.path("Labels")),
                c.path("StopSignal").asText(""),
                keys(c.path("ExposedPorts")),
                keys(c.path("Volumes")),
                root.path("os").asText(""),
                root.path("architecture").asText(""),
                variant.isEmpty() ? Optional.empty() : Optional.of(variant),
                diffIds,
                created,
                new String(body, StandardCharsets.UTF_8));
    }

    private static List<String> list(JsonNode arr) {
        List<String> out = new ArrayList<>();
        if (arr.isArray()) {
            arr.forEach(n -> out.add(n.asText()));
        }
        return out;
    }

    private static Set<String> keys(JsonNode obj) {
        Set<String> out = new LinkedHashSet<>();
        if (obj.isObject()) {
            obj.fieldNames().forEachRemaining(out::add);
        }
        return out;
    }
}

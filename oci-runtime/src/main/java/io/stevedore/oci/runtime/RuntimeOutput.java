package io.stevedore.oci.runtime;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** Parses what the runtime prints: {@code state}, {@code list --format json}, {@code features}. */
final class RuntimeOutput {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<Map<String, String>> STRING_MAP = new TypeReference<>() {};

    private RuntimeOutput() {}

    static OciState state(String stdout) throws IOException {
        return state(JSON.readTree(stdout));
    }

    /** runc prints {@code null} rather than {@code []} when there are no containers. */
    static List<OciState> states(String stdout) throws IOException {
        JsonNode node = JSON.readTree(stdout);
        if (node == null || node.isNull() || node.isMissingNode()) {
            return List.of();
        }
        if (!node.isArray()) {
            throw new IOException("expected a JSON array");
        }
        List<OciState> out = new ArrayList<>();
        for (JsonNode c : node) {
            out.add(state(c));
        }
        return List.copyOf(out);
    }

    static OciFeatures features(String stdout) throws IOException {
        JsonNode node = JSON.readTree(stdout);
        if (node == null || !node.isObject()) {
            throw new IOException("expected a JSON object");
        }
        return new OciFeatures(
                text(node, "ociVersionMin"),
                text(node, "ociVersionMax"),
                strings(node.path("hooks")),
                strings(node.path("mountOptions")),
                node);
    }

    private static OciState state(JsonNode n) throws IOException {
        if (n == null || !n.isObject()) {
            throw new IOException("expected a JSON object");
        }
        String created = text(n, "created");
        String bundle = text(n, "bundle");
        String rootfs = text(n, "rootfs");
        Map<String, String> annotations =
                n.path("annotations").isObject() ? JSON.convertValue(n.get("annotations"), STRING_MAP) : Map.of();
        return new OciState(
                text(n, "ociVersion"),
                Objects.requireNonNull(text(n, "id"), "id"),
                OciState.Status.of(text(n, "status")),
                n.path("pid").asInt(0),
                bundle == null || bundle.isEmpty() ? null : Path.of(bundle),
                rootfs == null || rootfs.isEmpty() ? null : Path.of(rootfs),
                created == null || created.isEmpty() ? null : Instant.parse(created),
                annotations);
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(e -> out.add(e.asText()));
        return out;
    }
}

package io.stevedore.cni.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stevedore.cni.CniException;

/** The one {@link ObjectMapper} of the module, and small helpers around it. */
public final class Json {
    /** Thread-safe once configured. */
    public static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {}

    /** Parses {@code text} as a JSON object; {@code what} names it in the error. */
    public static ObjectNode object(String text, String what) throws CniException {
        JsonNode node;
        try {
            node = MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new CniException(what + ": invalid JSON: " + e.getOriginalMessage(), e);
        }
        if (node == null || !node.isObject()) {
            throw new CniException(what + ": not a JSON object");
        }
        return (ObjectNode) node;
    }

    /** Compact JSON text of {@code node}. */
    public static String write(JsonNode node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JsonNode always serialises", e);
        }
    }

    /** A text field, or {@code null} when absent or JSON null; a non-text value is an error. */
    public static String text(JsonNode node, String field, String what) throws CniException {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw new CniException(what + ": \"" + field + "\" must be a string");
        }
        return v.asText();
    }

    /** An integer field, or {@code null} when absent. */
    public static Integer integer(JsonNode node, String field, String what) throws CniException {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.canConvertToInt() || !v.isIntegralNumber()) {
            throw new CniException(what + ": \"" + field + "\" must be an integer");
        }
        return v.intValue();
    }
}

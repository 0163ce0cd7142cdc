package io.stevedore.server.image.manifest;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stevedore.server.image.ref.Digest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Parses manifests and indexes. The media type comes from the registry's {@code Content-Type}
 * (parameters dropped); when that is missing or generic ({@code application/json}, {@code
 * text/plain}, {@code application/octet-stream}) the body's {@code mediaType} field decides, and an
 * OCI document without one is recognised by shape. A body whose {@code mediaType} contradicts the
 * header is refused, as is schema 1. Stateless and thread-safe.
 */
public final class Manifests {
    /** The largest manifest or index we read, as containerd's {@code MaxManifestSize}. */
    public static final int MAX_SIZE = 4 * 1024 * 1024;

    static final ObjectMapper JSON = new ObjectMapper();

    private Manifests() {}

    /**
     * Parses a manifest or index.
     *
     * @param mediaType the {@code Content-Type} it was served with, or null/empty if unknown
     * @throws ManifestException for schema 1, unknown types, a type contradicting the body, a body
     *     over {@link #MAX_SIZE}, or malformed JSON; the message says which
     */
    public static ManifestDocument parse(String mediaType, byte[] body) throws ManifestException {
        if (body.length > MAX_SIZE) {
            throw new ManifestException(
                    "manifest is " + body.length + " bytes, more than the " + MAX_SIZE + " byte limit");
        }
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (IOException e) {
            throw new ManifestException("manifest is not valid JSON: " + message(e), e);
        }
        if (root == null || !root.isObject()) {
            throw new ManifestException("manifest is not a JSON object");
        }
        String header = bare(mediaType);
        String inBody = root.path("mediaType").asText("");
        if (isSchema1(header) || isSchema1(inBody) || root.path("schemaVersion").asInt(0) == 1) {
            throw new ManifestException(
                    "schema 1 manifests are not supported, the image must be pushed again with a current"
                            + " client (Docker schema 2 or OCI)");
        }
        String type = header;
        if (type.isEmpty() || isGeneric(type)) {
            type = !inBody.isEmpty() ? inBody : root.has("manifests") ? MediaTypes.OCI_INDEX : MediaTypes.OCI_MANIFEST;
        } else if (!inBody.isEmpty() && !inBody.equals(type)) {
            throw new ManifestException("manifest served as " + type + " but its mediaType field says " + inBody);
        }
        if (MediaTypes.isIndex(type)) {
            return new ImageIndex(type, descriptors(root, "manifests", true), strings(root.path("annotations")));
        }
        if (MediaTypes.isManifest(type)) {
            return new ImageManifest(
                    type,
                    descriptor(root.path("config"), "config"),
                    descriptors(root, "layers", false),
                    strings(root.path("annotations")));
        }
        throw new ManifestException("unsupported manifest media type \"" + type + "\" (supported: "
                + String.join(", ", MediaTypes.MANIFEST_TYPES) + ")");
    }

    private static boolean isSchema1(String t) {
        return MediaTypes.isSchema1(t);
    }

    private static boolean isGeneric(String t) {
        return t.equals("application/json") || t.equals("text/plain") || t.equals("application/octet-stream");
    }

    /** A content type without parameters ({@code ; charset=utf-8}), lowercased. */
    static String bare(String contentType) {
        if (contentType == null) {
            return "";
        }
        int semi = contentType.indexOf(';');
        return (semi < 0 ? contentType : contentType.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
    }

    private static List<Descriptor> descriptors(JsonNode root, String field, boolean withPlatform)
            throws ManifestException {
        JsonNode arr = root.path(field);
        if (!arr.isArray()) {
            throw new ManifestException("manifest has no \"" + field + "\" array");
        }
        List<Descriptor> out = new ArrayList<>();
        for (int i = 0; i < arr.size(); i++) {
            Descriptor d = descriptor(arr.get(i), field + "[" + i + "]");
            out.add(d);
        }
        return out;
    }

    static Descriptor descriptor(JsonNode n, String where) throws ManifestException {
        if (!n.isObject()) {
            throw new ManifestException("manifest " + where + ": not a descriptor object");
        }
        String mediaType = n.path("mediaType").asText("");
        if (mediaType.isEmpty()) {
            throw new ManifestException("manifest " + where + ": no mediaType");
        }
        if (!n.path("size").canConvertToLong() || n.path("size").asLong() < 0) {
            throw new ManifestException("manifest " + where + ": missing or invalid size");
        }
        Digest digest;
        try {
            digest = Digest.of(n.path("digest").asText(""));
        } catch (IllegalArgumentException e) {
            throw new ManifestException("manifest " + where + ": " + e.getMessage(), e);
        }
        Optional<Platform> platform = Optional.empty();
        JsonNode p = n.path("platform");
        if (p.isObject()
                && !p.path("os").asText("").isEmpty()
                && !p.path("architecture").asText("").isEmpty()) {
            String variant = p.path("variant").asText("");
            platform = Optional.of(new Platform(
                    p.path("os").asText(),
                    p.path("architecture").asText(),
                    variant.isEmpty() ? Optional.empty() : Optional.of(variant)));
        }
        List<String> urls = new ArrayList<>();
        n.path("urls").forEach(u -> urls.add(u.asText()));
        return new Descriptor(
                mediaType, digest, n.path("size").asLong(), platform, strings(n.path("annotations")), urls);
    }

    static Map<String, String> strings(JsonNode obj) {
        Map<String, String> out = new LinkedHashMap<>();
        if (obj.isObject()) {
            obj.properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
        }
        return out;
    }

    static String message(IOException e) {
        return e instanceof JacksonException j ? j.getOriginalMessage() : e.getMessage();
    }
}

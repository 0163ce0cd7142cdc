package io.stevedore.server.image.manifest;

import io.stevedore.server.image.ref.Digest;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An OCI content descriptor: what a manifest says about a blob it points to.
 *
 * @param mediaType the blob's media type
 * @param digest the blob's digest; the content must hash to it
 * @param size the blob's size in bytes; the content must be exactly this long
 * @param platform for the entries of an index
 * @param annotations the descriptor's annotations (empty if none)
 * @param urls alternative locations (foreign layers; we never fetch from them)
 */
public record Descriptor(
        String mediaType,
        Digest digest,
        long size,
        Optional<Platform> platform,
        Map<String, String> annotations,
        List<String> urls) {
    public Descriptor {
        Objects.requireNonNull(mediaType, "mediaType");
        Objects.requireNonNull(digest, "digest");
        Objects.requireNonNull(platform, "platform");
        if (size < 0) {
            throw new IllegalArgumentException("descriptor " + digest + ": negative size " + size);
        }
        annotations = Map.copyOf(annotations);
        urls = List.copyOf(urls);
    }

    /** A descriptor with no platform, annotations or urls. */
    public static Descriptor of(String mediaType, Digest digest, long size) {
        return new Descriptor(mediaType, digest, size, Optional.empty(), Map.of(), List.of());
    }
}

package io.stevedore.oci.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * What the runtime reports with {@code features} (runtime-spec {@code features.md}); the rest of
 * the document is available as {@link #raw()}.
 */
public record OciFeatures(
        String ociVersionMin, String ociVersionMax, List<String> hooks, List<String> mountOptions, JsonNode raw) {
    public OciFeatures {
        hooks = hooks == null ? List.of() : List.copyOf(hooks);
        mountOptions = mountOptions == null ? List.of() : List.copyOf(mountOptions);
        raw = raw == null ? null : raw.deepCopy();
    }

    /** A copy of the whole {@code features} document. */
    @Override
    public JsonNode raw() {
        return raw == null ? null : raw.deepCopy();
    }
}

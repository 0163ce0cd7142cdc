package io.stevedore.oci.spec;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonInclude.Include;
import java.util.Objects;

/**
 * The container's root filesystem ({@code root}): a path, absolute or relative to the bundle.
 *
 * @param path the rootfs directory; required
 * @param readonly whether the rootfs is mounted read-only; omitted from JSON when false
 */
@JsonInclude(Include.NON_EMPTY)
public record Root(
        @JsonInclude(Include.ALWAYS) String path,
        @JsonInclude(Include.NON_DEFAULT) boolean readonly) {
    public Root {
        Objects.requireNonNull(path, "path");
    }

    public Root withReadonly(boolean readonly) {
        return new Root(path, readonly);
    }
}

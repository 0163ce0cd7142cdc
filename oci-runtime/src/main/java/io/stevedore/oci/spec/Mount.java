package io.stevedore.oci.spec;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonInclude.Include;
import java.util.List;
import java.util.Objects;

/**
 * One entry of {@code mounts}.
 *
 * @param destination absolute path inside the container; required
 * @param type filesystem type ({@code proc}, {@code tmpfs}, {@code bind}…); may be null
 * @param source device, path or pseudo-filesystem name; may be null
 * @param options mount(8) options
 * @param uidMappings idmapped-mount user mappings (runtime-spec 1.1)
 * @param gidMappings idmapped-mount group mappings (runtime-spec 1.1)
 */
@JsonInclude(Include.NON_EMPTY)
public record Mount(
        @JsonInclude(Include.ALWAYS) String destination,
        String type,
        String source,
        List<String> options,
        List<Linux.IdMapping> uidMappings,
        List<Linux.IdMapping> gidMappings) {
    public Mount {
        Objects.requireNonNull(destination, "destination");
        options = Copies.list(options);
        uidMappings = Copies.list(uidMappings);
        gidMappings = Copies.list(gidMappings);
    }

    public Mount(String destination, String type, String source, List<String> options) {
        this(destination, type, source, options, List.of(), List.of());
    }

    public Mount withOptions(List<String> options) {
        return new Mount(destination, type, source, options, uidMappings, gidMappings);
    }

    /** A bind mount of a host path; {@code options} should include {@code rbind} or {@code bind}. */
    public static Mount bind(String hostPath, String destination, List<String> options) {
        return new Mount(destination, "bind", hostPath, options);
    }
}

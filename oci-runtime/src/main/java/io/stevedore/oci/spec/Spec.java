package io.stevedore.oci.spec;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonInclude.Include;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An OCI runtime-spec configuration ({@code config.json}), versions 1.0.2 to 1.1, Linux only.
 *
 * <p>Immutable: the compact constructor copies every collection ({@code null} becomes empty, and
 * empty collections are omitted from JSON). Unknown JSON fields are ignored when reading. Build one
 * from {@link Specs#defaults()} and {@link SpecOpt}s, and write it with {@link SpecJson#write}:
 *
 * {@snippet :
 * Spec spec = Specs.apply(Specs.defaults(),
 *     Specs.withProcessArgs("/pause"),
 *     Specs.withHostname("pod-a"),
 *     Specs.withCgroupsPath("/stevedore/abc"));
 * SpecJson.write(spec, bundle.resolve("config.json"));
 * }
 *
 * @param ociVersion the spec version this configuration follows, e.g. {@code 1.1.0}; required
 * @param annotations sorted by key, as Go writes maps
 */
@JsonInclude(Include.NON_EMPTY)
public record Spec(
        @JsonInclude(Include.ALWAYS) String ociVersion,
        Process process,
        Root root,
        String hostname,
        List<Mount> mounts,
        Hooks hooks,
        Map<String, String> annotations,
        Linux linux) {
    /** The runtime-spec version we write. */
    public static final String VERSION = "1.1.0";

    public Spec {
        Objects.requireNonNull(ociVersion, "ociVersion");
        mounts = Copies.list(mounts);
        annotations = Copies.map(annotations);
    }

    public Spec withProcess(Process process) {
        return new Spec(ociVersion, process, root, hostname, mounts, hooks, annotations, linux);
    }

    public Spec withRoot(Root root) {
        return new Spec(ociVersion, process, root, hostname, mounts, hooks, annotations, linux);
    }

    public Spec withHostname(String hostname) {
        return new Spec(ociVersion, process, root, hostname, mounts, hooks, annotations, linux);
    }

    public Spec withMounts(List<Mount> mounts) {
        return new Spec(ociVersion, process, root, hostname, mounts, hooks, annotations, linux);
    }

    public Spec withHooks(Hooks hooks) {
        return new Spec(ociVersion, process, root, hostname, mounts, hooks, annotations, linux);
    }

    public Spec withAnnotations(Map<String, String> annotations) {
        return new Spec(ociVersion, process, root, hostname, mounts, hooks, annotations, linux);
    }

    public Spec withLinux(Linux linux) {
        return new Spec(ociVersion, process, root, hostname, mounts, hooks, annotations, linux);
    }
}

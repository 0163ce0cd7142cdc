package io.stevedore.server.image.registry;

import io.stevedore.server.image.manifest.Descriptor;
import io.stevedore.server.image.ref.ImageReference;
import java.util.Objects;

/**
 * The result of {@link RegistryClient#resolve}: what a reference points to right now.
 *
 * @param reference the reference resolved
 * @param endpoint the endpoint that answered
 * @param descriptor the top manifest or index: its media type, digest (verified against {@code
 *     body}, and against the reference's digest if it had one) and size
 * @param body the manifest bytes, exactly as served (not copied: do not modify)
 */
public record Resolved(ImageReference reference, RegistryEndpoint endpoint, Descriptor descriptor, byte[] body) {
    public Resolved {
        Objects.requireNonNull(reference, "reference");
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(descriptor, "descriptor");
        Objects.requireNonNull(body, "body");
    }
}

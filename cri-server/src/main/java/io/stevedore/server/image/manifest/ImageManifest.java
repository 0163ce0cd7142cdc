package io.stevedore.server.image.manifest;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One image: its config blob and its layers, bottom first (OCI image manifest or Docker schema 2).
 *
 * @param mediaType {@link MediaTypes#OCI_MANIFEST} or {@link MediaTypes#DOCKER_MANIFEST}
 * @param config the image config blob
 * @param layers the layer blobs, in the order they are stacked
 * @param annotations the manifest's annotations (empty if none)
 */
public record ImageManifest(
        String mediaType, Descriptor config, List<Descriptor> layers, Map<String, String> annotations)
        implements ManifestDocument {
    public ImageManifest {
        Objects.requireNonNull(mediaType, "mediaType");
        Objects.requireNonNull(config, "config");
        layers = List.copyOf(layers);
        annotations = Map.copyOf(annotations);
    }
}

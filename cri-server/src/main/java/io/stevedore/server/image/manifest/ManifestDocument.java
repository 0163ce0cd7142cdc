package io.stevedore.server.image.manifest;

/** What a manifest request returns: one image, or an index of per-platform images. */
public sealed interface ManifestDocument permits ImageManifest, ImageIndex {
    /** The document's media type, one of {@link MediaTypes#MANIFEST_TYPES}. */
    String mediaType();
}

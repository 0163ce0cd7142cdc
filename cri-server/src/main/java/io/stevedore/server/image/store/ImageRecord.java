package io.stevedore.server.image.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One image as the CRI sees it, identified by its config digest (containerd's and CRI-O's image
 * id). Immutable; a new tag or digest makes a new record.
 *
 * @param id the config digest, {@code sha256:<hex>}; the config blob itself is in the content store
 * @param repoTags canonical tagged references, e.g. {@code docker.io/library/busybox:1.36}
 * @param repoDigests canonical digested references, e.g. {@code docker.io/library/busybox@sha256:…}
 * @param size bytes of the manifest, config and (compressed) layer blobs
 * @param manifests digests of the index (if any) and manifest blobs kept in the content store
 * @param layers the layers, bottom first, each with its unpacked snapshot's chain id
 * @param pinned kubelet must not garbage-collect it (the sandbox image)
 */
public record ImageRecord(
        String id,
        List<String> repoTags,
        List<String> repoDigests,
        long size,
        List<String> manifests,
        List<Layer> layers,
        boolean pinned) {

    public ImageRecord {
        Objects.requireNonNull(id, "id");
        repoTags = List.copyOf(repoTags);
        repoDigests = List.copyOf(repoDigests);
        manifests = List.copyOf(manifests);
        layers = List.copyOf(layers);
    }

    /**
     * One layer of the image.
     *
     * @param digest the blob's digest (compressed, as in the manifest)
     * @param size the blob's size
     * @param mediaType the blob's media type (says how it is compressed)
     * @param chainId the chain id of the layer stack up to and including this layer (the snapshot key)
     */
    public record Layer(String digest, long size, String mediaType, String chainId) {
        public Layer {
            Objects.requireNonNull(digest, "digest");
            Objects.requireNonNull(mediaType, "mediaType");
            Objects.requireNonNull(chainId, "chainId");
        }
    }

    /** The chain id of the whole stack: the top snapshot a container's rootfs is made from. */
    public List<String> chainIds() {
        return layers.stream().map(Layer::chainId).toList();
    }

    /** This record with {@code other}'s references added (a second pull under another name). */
    public ImageRecord merge(ImageRecord other) {
        return new ImageRecord(
                id,
                union(repoTags, other.repoTags),
                union(repoDigests, other.repoDigests),
                size,
                union(manifests, other.manifests),
                layers,
                pinned || other.pinned);
    }

    /** This record without {@code tag}. */
    public ImageRecord withoutTag(String tag) {
        var tags = new ArrayList<>(repoTags);
        tags.remove(tag);
        return new ImageRecord(id, tags, repoDigests, size, manifests, layers, pinned);
    }

    private static List<String> union(List<String> a, List<String> b) {
        var out = new ArrayList<>(a);
        b.stream().filter(x -> !out.contains(x)).forEach(out::add);
        return out;
    }
}

package io.stevedore.server.image.manifest;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * A multi-platform image: an OCI image index or a Docker manifest list.
 *
 * @param mediaType {@link MediaTypes#OCI_INDEX} or {@link MediaTypes#DOCKER_MANIFEST_LIST}
 * @param manifests the entries, in the document's order
 * @param annotations the index's annotations (empty if none)
 */
public record ImageIndex(String mediaType, List<Descriptor> manifests, Map<String, String> annotations)
        implements ManifestDocument {
    public ImageIndex {
        Objects.requireNonNull(mediaType, "mediaType");
        manifests = List.copyOf(manifests);
        annotations = Map.copyOf(annotations);
    }

    /** {@link #select(Platform)} for {@link Platform#linuxAmd64()}. */
    public Descriptor select() throws ManifestException {
        return select(Platform.linuxAmd64());
    }

    /**
     * The entry to pull on {@code want}: the best-ranked compatible platform ({@link
     * Platform#rank}), the first in document order among equals, as containerd's {@code
     * platforms.Only} orders them. Entries without a platform (attestations, {@code unknown/unknown})
     * never match.
     *
     * @throws ManifestException listing the platforms the index has when none runs on {@code want}
     */
    public Descriptor select(Platform want) throws ManifestException {
        Descriptor best = null;
        int bestRank = Integer.MAX_VALUE;
        for (Descriptor d : manifests) {
            if (d.platform().isEmpty() || !MediaTypes.isManifest(d.mediaType())) {
                continue;
            }
            int rank = want.rank(d.platform().get());
            if (rank >= 0 && rank < bestRank) {
                best = d;
                bestRank = rank;
            }
        }
        if (best == null) {
            String available = manifests.stream()
                    .filter(d -> d.platform().isPresent())
                    .map(d -> d.platform().get().toString())
                    .distinct()
                    .collect(Collectors.joining(", "));
            throw new ManifestException("no manifest for platform " + want + " in the image index; available: "
                    + (available.isEmpty() ? "none" : available));
        }
        return best;
    }
}

package io.stevedore.server.image;

import io.stevedore.server.error.CriException;
import io.stevedore.server.image.content.ContentStore;
import io.stevedore.server.image.manifest.ImageConfig;
import io.stevedore.server.image.manifest.ManifestException;
import io.stevedore.server.image.ref.ImageReference;
import io.stevedore.server.image.registry.Credentials;
import io.stevedore.server.image.snapshot.SnapshotStore;
import io.stevedore.server.image.store.ImageRecord;
import io.stevedore.server.image.store.ImageStore;
import io.stevedore.server.state.Failpoints;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's images: pull, look up, list and remove, and the garbage collection that follows a
 * removal. Lookups accept what kubelet and crictl send: an image id or a unique prefix of it, a
 * tagged or digested reference, short or canonical ({@code busybox} is {@code
 * docker.io/library/busybox:latest}).
 *
 * <p>Pulls of different images run concurrently; pulls that share blobs or layers share their
 * download and unpack. Collection (after a removal, at start-up, after a failed pull) keeps what an
 * image record names, what a container uses and what a pull under way has leased ({@link Leases}):
 * a pull leases each blob and snapshot before it looks for it and releases the lease only once its
 * record is written, so collection can never take a layer or a config from under it. Removals and
 * collections are serialised on the lease lock; a pull takes that lock only for an instant, so a
 * removal never waits for a slow pull.
 */
public final class ImageService {
    private static final Logger log = LoggerFactory.getLogger(ImageService.class);

    private final ImageStore images;
    private final ContentStore content;
    private final SnapshotStore snapshots;
    private final ImagePuller puller;
    private final Supplier<Set<String>> snapshotsInUse;
    private final Leases leases = new Leases();
    private final Map<String, ImageConfig> configs = new ConcurrentHashMap<>();

    /**
     * @param snapshotsInUse chain ids that containers' root filesystems use right now; collection
     *     never removes those, even when no image names them any more
     */
    public ImageService(
            ImageStore images,
            ContentStore content,
            SnapshotStore snapshots,
            ImagePuller puller,
            Supplier<Set<String>> snapshotsInUse) {
        this.images = images;
        this.content = content;
        this.snapshots = snapshots;
        this.puller = puller;
        this.snapshotsInUse = snapshotsInUse;
    }

    /** Pulls {@code image} and returns the stored record (whose id is the CRI {@code image_ref}). */
    public ImageRecord pull(String image, Credentials creds) {
        ImageReference ref = parse(image);
        Leases.Lease lease = leases.open();
        try {
            ImageRecord pulled = puller.pull(ref, creds, lease);
            Failpoints.hit(Failpoints.PULL_BEFORE_RECORD);
            ImageRecord stored = images.put(pulled);
            lease.close(); // only now: until the record is written, nothing else names what we made
            return stored;
        } catch (IOException e) {
            var failure = new UncheckedIOException("store image " + ref + ": " + e.getMessage(), e);
            discard(lease, failure);
            throw failure;
        } catch (RuntimeException | Error e) {
            discard(lease, e);
            throw e;
        }
    }

    /** Removes what a failed pull made that nothing else (an image, a container, another pull) names. */
    private void discard(Leases.Lease lease, Throwable failure) {
        try {
            lease.discard((leasedBlobs, leasedSnapshots) ->
                    sweep(lease.blobs(), lease.snapshots(), leasedBlobs, leasedSnapshots, NOTHING));
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e); // the pull's own failure is what the caller must see
        }
    }

    /** The image {@code image} names, if this node has it. */
    public Optional<ImageRecord> find(String image) {
        Optional<ImageRecord> direct = images.find(image);
        if (direct.isPresent()) {
            return direct;
        }
        try {
            return images.find(ImageReference.parse(image).toString());
        } catch (IllegalArgumentException notAReference) {
            return Optional.empty(); // neither an id nor a valid reference: nothing by that name
        }
    }

    public Collection<ImageRecord> list() {
        return images.list();
    }

    /** The raw image config JSON (the OCI image config the id is the digest of). */
    public byte[] rawConfig(ImageRecord image) {
        try {
            return content.read(image.id());
        } catch (IOException e) {
            throw new UncheckedIOException("read config of image " + image.id(), e);
        }
    }

    /** The parsed image config; cached, since kubelet asks for it before every container it creates. */
    public ImageConfig config(ImageRecord image) {
        return configs.computeIfAbsent(image.id(), id -> {
            try {
                return ImageConfig.parse(rawConfig(image));
            } catch (ManifestException e) {
                throw new IllegalStateException(
                        "stored config of image " + id + " does not parse: " + e.getMessage(), e);
            }
        });
    }

    /**
     * Removes the image {@code image} names with all its tags, then whatever content and snapshots
     * nothing uses any more. An unknown image is not an error (the CRI says removal is idempotent).
     */
    public void remove(String image) {
        Optional<ImageRecord> found = find(image);
        if (found.isEmpty()) {
            return;
        }
        String id = found.get().id();
        try {
            leases.collect((leasedBlobs, leasedSnapshots) -> {
                images.remove(id);
                configs.remove(id);
                sweep(content.list(), snapshots.list(), leasedBlobs, leasedSnapshots, MID_REMOVE);
            });
        } catch (IOException e) {
            throw new UncheckedIOException("remove image " + id, e);
        }
    }

    /**
     * Reconciles the image stores with what survived a crash, once at start-up: after containers
     * have been recovered (their snapshots count as used) and before any pull.
     *
     * <p>Assumptions: temp files and unpack directories of interrupted writes were already removed
     * when the stores were opened; no pull is under way. A record whose config blob or one of whose
     * snapshots is missing is dropped (logged), since a container could not be made from it and
     * kubelet, seeing the image gone, pulls it again. Then everything no record names and no
     * container uses is collected: what a pull killed mid-way committed before it could write its
     * record.
     */
    public void recover() {
        for (ImageRecord r : images.list()) {
            List<String> missing = new ArrayList<>();
            if (!content.has(r.id())) {
                missing.add(r.id());
            }
            r.chainIds().stream().filter(c -> !snapshots.has(c)).forEach(missing::add);
            if (!missing.isEmpty()) {
                log.atWarn()
                        .addKeyValue("image", r.id())
                        .addKeyValue("missing", missing)
                        .log("dropping image record whose content is gone");
                try {
                    images.remove(r.id());
                } catch (IOException e) {
                    throw new UncheckedIOException("drop image record " + r.id(), e);
                }
            }
        }
        try {
            collectGarbage();
        } catch (UncheckedIOException e) {
            // Garbage left over costs disk, not correctness: not worth refusing to start for.
            log.atWarn().setCause(e).log("collecting unused image content at start-up failed");
        }
    }

    /** Removes every snapshot and blob that no image record, container or pull under way needs. */
    public void collectGarbage() {
        try {
            leases.collect((leasedBlobs, leasedSnapshots) ->
                    sweep(content.list(), snapshots.list(), leasedBlobs, leasedSnapshots, NOTHING));
        } catch (IOException e) {
            throw new UncheckedIOException("collect unused images content", e);
        }
    }

    /**
     * Removes, of {@code blobs} and {@code chains}, what no image record names, no container uses
     * and no open lease names. Runs under the lease lock.
     */
    private static final Runnable NOTHING = () -> {};

    private static final Runnable MID_REMOVE = () -> Failpoints.hit(Failpoints.IMAGE_REMOVE_MID_GC);

    /** @param midway runs between the snapshots' sweep and the blobs' (a crash test's failpoint) */
    private void sweep(
            Collection<String> blobs,
            Collection<String> chains,
            Set<String> leasedBlobs,
            Set<String> leasedSnapshots,
            Runnable midway)
            throws IOException {
        Set<String> keepSnapshots = new HashSet<>(snapshotsInUse.get());
        keepSnapshots.addAll(leasedSnapshots);
        Set<String> keepBlobs = new HashSet<>(leasedBlobs);
        for (ImageRecord r : images.list()) {
            keepSnapshots.addAll(r.chainIds());
            keepBlobs.add(r.id());
            keepBlobs.addAll(r.manifests());
            r.layers().forEach(l -> keepBlobs.add(l.digest()));
        }
        for (String chain : chains) {
            if (!keepSnapshots.contains(chain) && snapshots.has(chain)) {
                snapshots.remove(chain);
                log.atDebug().addKeyValue("snapshot", chain).log("removed unused snapshot");
            }
        }
        midway.run(); // snapshots gone, blobs not yet
        for (String blob : blobs) {
            if (!keepBlobs.contains(blob)) {
                content.delete(blob);
            }
        }
    }

    private static ImageReference parse(String image) {
        try {
            return ImageReference.parse(image);
        } catch (IllegalArgumentException e) {
            throw new CriException.InvalidArgument("invalid image reference \"" + image + "\": " + e.getMessage());
        }
    }
}

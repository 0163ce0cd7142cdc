package io.stevedore.server.image;

import io.stevedore.server.error.CriException;
import io.stevedore.server.error.DiskFull;
import io.stevedore.server.image.content.ContentStore;
import io.stevedore.server.image.content.DigestingInputStream;
import io.stevedore.server.image.manifest.Descriptor;
import io.stevedore.server.image.manifest.ImageConfig;
import io.stevedore.server.image.manifest.ImageIndex;
import io.stevedore.server.image.manifest.ImageManifest;
import io.stevedore.server.image.manifest.ManifestDocument;
import io.stevedore.server.image.manifest.ManifestException;
import io.stevedore.server.image.manifest.Manifests;
import io.stevedore.server.image.manifest.Platform;
import io.stevedore.server.image.ref.Digest;
import io.stevedore.server.image.ref.ImageReference;
import io.stevedore.server.image.registry.Credentials;
import io.stevedore.server.image.registry.RegistryClient;
import io.stevedore.server.image.registry.RegistryException;
import io.stevedore.server.image.registry.Resolved;
import io.stevedore.server.image.snapshot.SnapshotStore;
import io.stevedore.server.image.store.ImageRecord;
import io.stevedore.server.image.unpack.Decompression;
import io.stevedore.server.image.unpack.LayerUnpacker;
import io.stevedore.server.image.unpack.SizeLimitException;
import io.stevedore.server.image.unpack.UnpackBudget;
import io.stevedore.server.image.unpack.UnpackException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;

/**
 * One pull, start to finish: resolve the reference, pick the platform's manifest out of an index,
 * fetch the config, then download and unpack every layer — several at once, each streamed from the
 * registry through decompression straight into its snapshot, with the blob's digest and the
 * layer's diff id both checked on the way. A snapshot is committed only when both match, and the
 * image record (written by the caller) only when every snapshot is there.
 *
 * <p>Unlike containerd, compressed layer blobs are not kept once unpacked: they would double the
 * disk an image takes and cost a second pass over every byte.
 */
public final class ImagePuller {
    private final RegistryClient registry;
    private final ContentStore content;
    private final SnapshotStore snapshots;
    private final LayerUnpacker unpacker;
    private final Platform platform;
    private final int parallelLayers;
    private final Limits limits;

    /**
     * Bounds on what unpacking one pull may write to disk, in bytes (file contents, plus a block per
     * entry). Layers already on the node, or unpacked by another pull at the same time, are not
     * counted again: the bound is on the disk a pull fills.
     *
     * @param maxLayerSize one layer ({@code image.max_layer_size})
     * @param maxImageSize all the layers this pull unpacks ({@code image.max_image_size})
     */
    public record Limits(long maxLayerSize, long maxImageSize) {
        public Limits {
            if (maxLayerSize < 1 || maxImageSize < 1) {
                throw new IllegalArgumentException("size limits must be at least 1 byte");
            }
        }
    }

    public ImagePuller(
            RegistryClient registry,
            ContentStore content,
            SnapshotStore snapshots,
            LayerUnpacker unpacker,
            Platform platform,
            int parallelLayers,
            Limits limits) {
        this.registry = registry;
        this.content = content;
        this.snapshots = snapshots;
        this.unpacker = unpacker;
        this.platform = platform;
        this.parallelLayers = parallelLayers;
        this.limits = limits;
    }

    /**
     * Pulls {@code ref}; returns the record to store. Every blob and snapshot the image needs is added
     * to {@code lease} before the pull looks for it, so collection leaves it alone until the caller
     * has written the record and closed the lease.
     */
    ImageRecord pull(ImageReference ref, Credentials creds, Leases.Lease lease) {
        try {
            return doPull(ref, creds, lease);
        } catch (RegistryException e) {
            if (e.isNotFound()) {
                throw new CriException.NotFound("pull " + ref + ": " + e.getMessage());
            }
            throw new PullException("pull " + ref + ": " + e.getMessage(), e);
        } catch (ManifestException | UnpackException | IOException e) {
            throw new PullException("pull " + ref + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PullException("pull " + ref + ": cancelled", e);
        }
    }

    private ImageRecord doPull(ImageReference ref, Credentials creds, Leases.Lease lease)
            throws IOException, InterruptedException, RegistryException, ManifestException, UnpackException {
        Resolved top = registry.resolve(ref, creds);
        var manifests = new StoredManifests(lease);
        ManifestDocument doc = store(top.descriptor(), top.body(), manifests);
        ImageManifest manifest = switch (doc) {
            case ImageManifest m -> m;
            case ImageIndex index -> {
                Descriptor chosen = index.select(platform);
                byte[] body = registry.fetchManifest(top, chosen, creds);
                if (!(store(chosen, body, manifests) instanceof ImageManifest m)) {
                    throw new ManifestException("index " + top.descriptor().digest() + " of " + ref
                            + " points at another index for " + platform + "; nested indexes are not supported");
                }
                yield m;
            }
        };

        Descriptor cfgDesc = manifest.config();
        lease.addBlob(cfgDesc.digest().toString());
        content.ingest(cfgDesc.digest().toString(), cfgDesc.size(), () -> openBlob(top, cfgDesc, creds));
        ImageConfig config = ImageConfig.parse(content.read(cfgDesc.digest().toString()));
        List<String> diffIds = config.diffIds().stream().map(Digest::toString).toList();
        if (diffIds.size() != manifest.layers().size()) {
            throw new ManifestException("image " + ref + " has "
                    + manifest.layers().size() + " layers but its config lists " + diffIds.size() + " diff ids");
        }
        List<String> chains = ChainIds.of(diffIds);
        lease.addSnapshots(chains);
        unpackAll(ref, top, manifest.layers(), diffIds, chains, creds);

        List<ImageRecord.Layer> layers = new ArrayList<>();
        long size = cfgDesc.size() + manifests.bytes;
        for (int i = 0; i < chains.size(); i++) {
            Descriptor l = manifest.layers().get(i);
            layers.add(new ImageRecord.Layer(l.digest().toString(), l.size(), l.mediaType(), chains.get(i)));
            size += l.size();
        }
        String repoDigest = ref.repository() + "@" + top.descriptor().digest();
        List<String> tags =
                ref.tag().map(t -> List.of(ref.repository() + ":" + t)).orElse(List.of());
        return new ImageRecord(
                cfgDesc.digest().toString(), tags, List.of(repoDigest), size, manifests.digests, layers, false);
    }

    /** The index and manifest blobs a pull stored, and their total size (part of the image size). */
    private static final class StoredManifests {
        final Leases.Lease lease;
        final List<String> digests = new ArrayList<>();
        long bytes;

        StoredManifests(Leases.Lease lease) {
            this.lease = lease;
        }
    }

    private ManifestDocument store(Descriptor desc, byte[] body, StoredManifests stored)
            throws IOException, InterruptedException, ManifestException {
        String digest = desc.digest().toString();
        stored.lease.addBlob(digest);
        content.ingest(digest, body.length, () -> new ByteArrayInputStream(body));
        stored.digests.add(digest);
        stored.bytes += body.length;
        return Manifests.parse(desc.mediaType(), body);
    }

    /** Downloads and unpacks the layers that are not on this node yet, {@code parallelLayers} at a time. */
    private void unpackAll(
            ImageReference ref,
            Resolved top,
            List<Descriptor> layers,
            List<String> diffIds,
            List<String> chains,
            Credentials creds)
            throws IOException, InterruptedException, UnpackException {
        var slots = new Semaphore(parallelLayers);
        var budget = UnpackBudget.of(limits.maxImageSize(), "image.max_image_size");
        List<Future<?>> running = new ArrayList<>();
        try (var exec = Executors.newThreadPerTaskExecutor(
                Thread.ofVirtual().name("pull-layer-", 0).factory())) {
            for (int i = 0; i < layers.size(); i++) {
                if (snapshots.has(chains.get(i))) {
                    continue;
                }
                Descriptor layer = layers.get(i);
                String diffId = diffIds.get(i);
                String chain = chains.get(i);
                running.add(exec.submit(() -> {
                    slots.acquire();
                    try {
                        var layerBudget = budget.layer(limits.maxLayerSize(), "image.max_layer_size");
                        return snapshots.prepare(
                                chain, dir -> unpackLayer(ref, top, layer, diffId, dir, creds, layerBudget));
                    } finally {
                        slots.release();
                    }
                }));
            }
            for (Future<?> f : running) {
                try {
                    f.get();
                } catch (InterruptedException e) {
                    // The pull was cancelled: stop waiting for our layers now (closing the executor
                    // would wait for them). A layer another pull also waits for goes on for that one.
                    running.forEach(r -> r.cancel(true));
                    throw e;
                } catch (ExecutionException e) {
                    running.forEach(r -> r.cancel(true)); // one bad layer fails the pull: stop the others
                    switch (e.getCause()) {
                        case UnpackWrapper w -> throw w.cause;
                        case IOException io -> throw io;
                        case InterruptedException ie -> throw ie;
                        case RuntimeException re -> throw re;
                        default -> throw new IOException(e.getCause());
                    }
                }
            }
        }
    }

    private void unpackLayer(
            ImageReference ref,
            Resolved top,
            Descriptor layer,
            String diffId,
            Path dir,
            Credentials creds,
            UnpackBudget budget)
            throws IOException, InterruptedException {
        String what = "layer " + layer.digest() + " of " + ref;
        try (InputStream raw = openBlob(top, layer, creds);
                var compressed = new DigestingInputStream(raw, layer.size(), what);
                InputStream tar = Decompression.open(compressed, layer.mediaType());
                var uncompressed = new DigestingInputStream(tar, -1, what + " (uncompressed)")) {
            unpacker.unpack(uncompressed, dir, budget);
            uncompressed.verify(diffId);
            compressed.verify(layer.digest().toString());
        } catch (SizeLimitException e) {
            // Not the registry's fault nor a malformed layer: a node limit, which a retry will not pass.
            throw new CriException.ResourceExhausted(
                    "pull " + ref + ": layer " + layer.digest() + ": " + e.getMessage());
        } catch (UnpackException e) {
            throw new UnpackWrapper(e);
        } catch (IOException e) {
            if (DiskFull.is(e)) { // the JDK says only "No space left on device": say what was being written
                throw new IOException("unpack layer " + layer.digest() + " into " + dir + ": " + e.getMessage(), e);
            }
            throw e;
        }
    }

    /** A blob's content stream; registry failures become I/O failures of the download. */
    private InputStream openBlob(Resolved top, Descriptor desc, Credentials creds) throws IOException {
        try {
            return registry.fetchBlob(top, desc, creds);
        } catch (RegistryException e) {
            throw new IOException(e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("fetch " + desc.digest() + ": interrupted");
        }
    }

    /** Carries a checked {@link UnpackException} through {@link SnapshotStore.Unpack}'s signature. */
    private static final class UnpackWrapper extends IOException {
        final UnpackException cause;

        UnpackWrapper(UnpackException cause) {
            super(cause.getMessage(), cause);
            this.cause = cause;
        }
    }

    /** A pull failed for a reason that is not the caller's (registry, network, hostile content). */
    public static final class PullException extends RuntimeException {
        PullException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}

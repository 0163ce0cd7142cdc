package io.stevedore.server.image;

import java.io.IOException;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;

/**
 * What pulls under way are about to use or have just made, so that garbage collection leaves it
 * alone although no image record names it yet (containerd's leases). A pull opens a lease, adds each
 * blob and snapshot to it <em>before</em> it checks whether that item exists, and closes it once its
 * image record is written.
 *
 * <p>The monitor of this object is the collection lock. Collection holds it for its whole mark and
 * sweep ({@link #collect}); adding to a lease takes it for an instant. So an item is either leased
 * before a collection marks (and is kept), or after its sweep (and the pull, checking after leasing,
 * finds it missing and makes it again): a pull can never count on an item a collection is about to
 * remove. A pull never holds the lock while it downloads, so a removal never waits for a slow pull.
 */
final class Leases {
    /** Guarded by {@code this}, as is every lease's content. */
    private final Set<Lease> open = new HashSet<>();

    /** The sweep of a collection, given what open leases name (it must keep those). */
    @FunctionalInterface
    interface Sweep {
        void run(Set<String> leasedBlobs, Set<String> leasedSnapshots) throws IOException;
    }

    synchronized Lease open() {
        Lease l = new Lease();
        open.add(l);
        return l;
    }

    /** Runs {@code sweep} holding the collection lock, with every open lease's items. */
    synchronized void collect(Sweep sweep) throws IOException {
        sweep.run(leased(true), leased(false));
    }

    private Set<String> leased(boolean blobs) {
        Set<String> out = new HashSet<>();
        for (Lease l : open) {
            out.addAll(blobs ? l.blobs : l.snapshots);
        }
        return out;
    }

    /** One pull's lease. Closing it is idempotent. */
    final class Lease implements AutoCloseable {
        private final Set<String> blobs = new HashSet<>();
        private final Set<String> snapshots = new HashSet<>();

        /** Leases a blob; call before checking whether it is in the content store. */
        void addBlob(String digest) {
            synchronized (Leases.this) {
                blobs.add(digest);
            }
        }

        /** Leases snapshots by chain id; call before checking whether they exist. */
        void addSnapshots(Collection<String> chainIds) {
            synchronized (Leases.this) {
                snapshots.addAll(chainIds);
            }
        }

        /** What this lease names now. */
        Set<String> blobs() {
            synchronized (Leases.this) {
                return Set.copyOf(blobs);
            }
        }

        Set<String> snapshots() {
            synchronized (Leases.this) {
                return Set.copyOf(snapshots);
            }
        }

        /**
         * Ends the lease of a pull that failed: runs {@code sweep} under the collection lock with
         * what the <em>other</em> open leases name, so that the caller can remove what this pull
         * alone made while another pull's items stay.
         */
        void discard(Sweep sweep) throws IOException {
            synchronized (Leases.this) {
                open.remove(this);
                sweep.run(leased(true), leased(false));
            }
        }

        @Override
        public void close() {
            synchronized (Leases.this) {
                open.remove(this);
            }
        }
    }
}

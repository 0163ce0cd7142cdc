package io.stevedore.server.image.snapshot;

import io.stevedore.oci.linux.LinuxSyscalls;
import io.stevedore.oci.linux.Syscalls;
import io.stevedore.server.image.FileTrees;
import io.stevedore.server.image.content.SingleFlight;
import io.stevedore.server.state.Failpoints;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Unpacked image layers, one directory per layer keyed by the layer's chain id, so every image
 * that contains the same layer stack shares it (containerd's overlayfs snapshotter, committed
 * snapshots only; container writable layers live elsewhere):
 *
 * <pre>
 * &lt;root&gt;/&lt;chain hex&gt;/fs                 committed: complete, never written again
 * &lt;root&gt;/.tmp-&lt;chain hex&gt;-&lt;n&gt;/fs         being unpacked; removed at start-up
 * &lt;root&gt;/.del-&lt;chain hex&gt;-&lt;n&gt;            being removed; removed at start-up
 * </pre>
 *
 * <p>A snapshot appears under its final name only once its layer is fully unpacked (one atomic
 * directory rename), so a crash mid-unpack leaves nothing that looks complete, and a failed unpack (a
 * full disk among others) removes its directory before {@link #prepare} returns. Removal renames
 * first, so a half-removed snapshot is never mistaken for a whole one. The unpacked tree is made
 * durable ({@code syncfs(2)} of its filesystem) before that rename, and the rename itself (a
 * directory {@code fsync}) after it: otherwise a power loss could leave a committed name over empty
 * or truncated files, since ext4 and xfs order metadata, not data. Thread-safe; concurrent
 * {@link #prepare} calls for the same chain id unpack once.
 */
public final class SnapshotStore {
    private static final Pattern CHAIN_ID = Pattern.compile("sha256:[0-9a-f]{64}");

    private final Path root;
    private final Syscalls sys;
    private final SingleFlight<String, Path> inFlight = new SingleFlight<>("unpack-");

    /** Fills a fresh, empty directory with one layer. */
    @FunctionalInterface
    public interface Unpack {
        void into(Path emptyDir) throws IOException, InterruptedException;
    }

    /** Creates the directory and removes what interrupted unpacks and removals left. */
    public SnapshotStore(Path root) throws IOException {
        this(root, new LinuxSyscalls());
    }

    /** As {@link #SnapshotStore(Path)}, with {@code sys} for {@code syncfs} and {@code fsync}. */
    public SnapshotStore(Path root, Syscalls sys) throws IOException {
        this.sys = sys;
        this.root = Files.createDirectories(root);
        try (Stream<Path> all = Files.list(root)) {
            for (Path p : all.toList()) {
                String n = p.getFileName().toString();
                if (n.startsWith(".tmp-") || n.startsWith(".del-")) {
                    FileTrees.delete(p);
                }
            }
        }
    }

    /** The snapshot's filesystem tree, the path an overlay mount takes as a lower dir. */
    public Path fsPath(String chainId) {
        return root.resolve(hex(chainId)).resolve("fs");
    }

    public boolean has(String chainId) {
        return Files.isDirectory(fsPath(chainId));
    }

    /** Makes the snapshot present, unpacking it with {@code unpack} unless it already is. */
    public Path prepare(String chainId, Unpack unpack) throws IOException, InterruptedException {
        Path done = fsPath(chainId);
        if (Files.isDirectory(done)) {
            return done;
        }
        return inFlight.run(chainId, () -> {
            if (Files.isDirectory(done)) {
                return done;
            }
            Path tmp = Files.createTempDirectory(root, ".tmp-" + hex(chainId) + "-");
            try {
                Path fs = Files.createDirectory(tmp.resolve("fs"));
                unpack.into(fs);
                sys.syncfs(tmp);
                Failpoints.hit(Failpoints.PULL_BEFORE_LAYER_COMMIT);
                try {
                    Files.move(tmp, done.getParent(), StandardCopyOption.ATOMIC_MOVE);
                } catch (IOException e) {
                    if (!Files.isDirectory(done)) {
                        throw e;
                    }
                    return done; // an unpack whose waiters had all gone committed it after all
                }
                sys.fsync(root);
                Failpoints.hit(Failpoints.PULL_AFTER_LAYER_COMMIT);
                return done;
            } catch (IOException | InterruptedException | RuntimeException | Error e) {
                deleteAfterFailure(tmp, e);
                throw e;
            }
        });
    }

    /** Removes a failed unpack's tree; a failure to do so never hides why the unpack failed. */
    private static void deleteAfterFailure(Path tmp, Throwable cause) {
        try {
            FileTrees.delete(tmp);
        } catch (IOException | RuntimeException e) {
            cause.addSuppressed(e);
        }
    }

    /** How many callers wait for the snapshot's unpack now (0 when none is under way). */
    public int waiters(String chainId) {
        return inFlight.waiters(chainId);
    }

    /** Every chain id present. */
    public List<String> list() throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> all = Files.list(root)) {
            all.map(p -> p.getFileName().toString())
                    .filter(n -> !n.startsWith("."))
                    .forEach(n -> out.add("sha256:" + n));
        }
        return out;
    }

    /** Removes a snapshot; the caller makes sure nothing (no image, no container) uses it. */
    public void remove(String chainId) throws IOException {
        Path dir = root.resolve(hex(chainId));
        Path gone = root.resolve(".del-" + hex(chainId) + "-" + System.nanoTime());
        try {
            Files.move(dir, gone, StandardCopyOption.ATOMIC_MOVE);
        } catch (NoSuchFileException e) {
            return;
        }
        FileTrees.delete(gone);
    }

    private static String hex(String chainId) {
        if (!CHAIN_ID.matcher(chainId).matches()) {
            throw new IllegalArgumentException("not a sha256 chain id: " + chainId);
        }
        return chainId.substring("sha256:".length());
    }
}

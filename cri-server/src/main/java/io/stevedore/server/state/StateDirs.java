package io.stevedore.server.state;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The mode of every directory {@link StateLayout} names, set at each start, not only when a
 * directory is made: an install whose directories were made 0755 (by an older release, or under
 * a loose umask) is fixed by the next start. The modes are set after creation, so the umask never
 * decides them.
 *
 * <p>What the modes protect: a container's files (its writable layer, its mounted root file system
 * with whatever setuid binary its root planted there), its {@code config.json} (environment,
 * secrets), the records, and each pod's {@code /dev/shm} (a tmpfs mounted 1777, for the pod, not
 * for the host) are reachable only by root. Everything that walks these paths runs as root: the
 * daemon, the shim, the OCI runtime (it resolves the bundle and rootfs before it drops to the
 * container's user; its exec FIFO is reopened through {@code /proc/self/fd}, which no directory
 * mode gates), the CNI plugins and the kernel's overlay mounts (which use the mounter's
 * credentials). The pause process chroots as root and only then becomes uid 65535.
 *
 * <pre>
 * &lt;root&gt;                      0700  nothing in it is for anyone but root
 * &lt;run_root&gt;                  0711  others may pass through to the CRI socket (mode 0660,
 *                                  gated by its group); they cannot list the directory
 * &lt;run_root&gt;/pause-root       0555  empty and read-only: the pause process's chroot
 * every other named directory 0700
 * </pre>
 *
 * Directories below these (per object) keep the modes they are made with: their parents already
 * stop everyone but root, and a writable layer's {@code upper} must keep its mode, which overlayfs
 * shows as the container's {@code /}.
 */
public final class StateDirs {
    static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString("rwx------");
    static final Set<PosixFilePermission> TRAVERSABLE = PosixFilePermissions.fromString("rwx--x--x");
    static final Set<PosixFilePermission> READ_ONLY = PosixFilePermissions.fromString("r-xr-xr-x");

    private StateDirs() {}

    /** Creates both roots if missing and sets their modes; runs before the state lock is taken. */
    public static void createRoots(StateLayout layout) throws IOException {
        ensure(layout.root(), PRIVATE, true);
        ensure(layout.runRoot(), TRAVERSABLE, true);
    }

    /** Creates every directory {@link #modes} names, if missing, and sets its mode. */
    public static void enforce(StateLayout layout) throws IOException {
        for (var e : modes(layout).entrySet()) {
            Path dir = e.getKey();
            // A root may be a symlink an administrator made (to another disk); nothing below may.
            ensure(dir, e.getValue(), dir.equals(layout.root()) || dir.equals(layout.runRoot()));
        }
    }

    /** Every directory of the layout with its mode, parents first. */
    public static Map<Path, Set<PosixFilePermission>> modes(StateLayout l) {
        var m = new LinkedHashMap<Path, Set<PosixFilePermission>>();
        m.put(l.root(), PRIVATE);
        for (Path p : new Path[] {
            l.content(),
            l.snapshots(),
            l.images(),
            l.sandboxRecords(),
            l.containerRecords(),
            l.sandboxFiles(),
            l.sandboxFilesTrash(),
            l.containerLayers(),
            l.containerLayersTrash(),
            l.checkpoints()
        }) {
            m.put(p, PRIVATE);
        }
        m.put(l.runRoot(), TRAVERSABLE);
        for (Path p : new Path[] {
            l.bundles(),
            l.bundlesTrash(),
            l.shimSockets(),
            l.exits(),
            l.sandboxRun(),
            l.sandboxRunTrash(),
            l.namespacePins(),
            l.runtimeRoots()
        }) {
            m.put(p, PRIVATE);
        }
        m.put(l.pauseRoot(), READ_ONLY);
        return m;
    }

    /**
     * Makes {@code dir} (and missing parents) and gives it {@code mode}. Unless {@code followLinks},
     * a symlink there is refused rather than followed: the mode must land on the directory the
     * daemon uses, not on one a link points at.
     */
    static void ensure(Path dir, Set<PosixFilePermission> mode, boolean followLinks) throws IOException {
        Files.createDirectories(dir);
        LinkOption[] how = followLinks ? new LinkOption[0] : new LinkOption[] {LinkOption.NOFOLLOW_LINKS};
        if (!Files.isDirectory(dir, how)) {
            throw new IOException("state directory " + dir + " is not a directory (a symlink or a file is in the way)");
        }
        if (!Files.getPosixFilePermissions(dir, how).equals(mode)) {
            Files.setPosixFilePermissions(dir, mode);
        }
    }
}

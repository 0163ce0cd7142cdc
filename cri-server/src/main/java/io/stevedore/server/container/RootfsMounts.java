package io.stevedore.server.container;

import io.stevedore.oci.linux.Errno;
import io.stevedore.oci.linux.SyscallException;
import io.stevedore.oci.linux.Syscalls;
import io.stevedore.server.error.CriException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A container's root file system: the image's layer snapshots as overlay lower layers, under the
 * container's own writable {@code upper} and {@code work} directories.
 */
public final class RootfsMounts implements Rootfs {
    /** mount(2) copies at most one page of options. */
    private static final int MAX_OPTIONS = 4095;

    private final Syscalls sys;

    public RootfsMounts(Syscalls sys) {
        this.sys = sys;
    }

    /**
     * Mounts the overlay on {@code target}.
     *
     * @param lowers snapshot directories, bottom layer first
     */
    @Override
    public void mount(List<Path> lowers, Path upper, Path work, Path target) throws IOException {
        if (lowers.isEmpty()) {
            throw new CriException.FailedPrecondition("image has no layers");
        }
        Files.createDirectories(upper);
        Files.createDirectories(work);
        Files.createDirectories(target);
        var sb = new StringBuilder(lowerdir(lowers));
        sb.append(",upperdir=").append(upper).append(",workdir=").append(work);
        if (sb.length() > MAX_OPTIONS) {
            throw new CriException.FailedPrecondition(
                    "image has too many layers (" + lowers.size() + ") for one overlay mount");
        }
        sys.mount("overlay", target, "overlay", 0, sb.toString());
    }

    /**
     * An overlay of the layers with no upper directory, mounted read-only; a single layer (overlayfs
     * wants two lower directories without an upper one) is bound and made read-only instead. Both
     * are {@code nosuid,nodev}: an image's set-uid files and device nodes mean nothing in a volume.
     */
    @Override
    public void mountReadOnly(List<Path> lowers, Path target) throws IOException {
        if (lowers.isEmpty()) {
            throw new CriException.FailedPrecondition("image has no layers");
        }
        Files.createDirectories(target);
        long flags = Syscalls.MS_RDONLY | Syscalls.MS_NOSUID | Syscalls.MS_NODEV;
        if (lowers.size() == 1) {
            sys.mount(lowers.getFirst().toString(), target, null, Syscalls.MS_BIND, null);
            try {
                // A bind ignores MS_RDONLY; the read-only flag takes a remount of the bind.
                sys.mount(null, target, null, Syscalls.MS_BIND | Syscalls.MS_REMOUNT | flags, null);
            } catch (SyscallException e) {
                unmount(target);
                throw e;
            }
            return;
        }
        String options = lowerdir(lowers);
        if (options.length() > MAX_OPTIONS) {
            throw new CriException.FailedPrecondition(
                    "image has too many layers (" + lowers.size() + ") for one overlay mount");
        }
        sys.mount("overlay", target, "overlay", flags, options);
    }

    /** {@code lowerdir=top:…:bottom}. */
    private static String lowerdir(List<Path> lowers) {
        var sb = new StringBuilder("lowerdir=");
        for (int i = lowers.size() - 1; i >= 0; i--) {
            sb.append(lowers.get(i));
            if (i > 0) sb.append(':');
        }
        return sb.toString();
    }

    /** Unmounts {@code target} if it is mounted; a missing or unmounted target is fine. */
    @Override
    public void unmount(Path target) throws IOException {
        for (int i = 0; i < 8; i++) {
            try {
                sys.umount2(target, Syscalls.MNT_DETACH);
            } catch (SyscallException e) {
                if (e.errno() == Errno.EINVAL || e.errno() == Errno.ENOENT) {
                    return; // not (or no longer) a mount point
                }
                throw e;
            }
        }
    }
}

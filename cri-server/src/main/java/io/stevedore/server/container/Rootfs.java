package io.stevedore.server.container;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A container's root file system: the image's layer snapshots under the container's own writable
 * layer. The mechanism is {@link RootfsMounts} (overlayfs); tests use a fake.
 */
public interface Rootfs {
    /**
     * Mounts the layers on {@code target}.
     *
     * @param lowers snapshot directories, bottom layer first
     */
    void mount(List<Path> lowers, Path upper, Path work, Path target) throws IOException;

    /**
     * Mounts the layers read-only on {@code target}, with no writable layer: an image volume.
     *
     * @param lowers snapshot directories, bottom layer first
     */
    void mountReadOnly(List<Path> lowers, Path target) throws IOException;

    /** Unmounts {@code target} if it is mounted; a missing or unmounted target is fine. */
    void unmount(Path target) throws IOException;
}

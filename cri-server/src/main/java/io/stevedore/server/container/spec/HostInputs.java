package io.stevedore.server.container.spec;

import io.stevedore.cri.v1.Mount;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * What CreateContainer found or made on the host for one container before its spec is generated:
 * things a CRI config only names.
 *
 * @param targetPid the init pid of the running container a PID mode {@code TARGET} container joins
 *     ({@code /proc/<pid>/ns/pid}); empty when the mode is not TARGET
 * @param imageVolumes for each image volume ({@code Mount.image}), by its index in {@code
 *     ContainerConfig.mounts}: the absolute host directory (or file) to bind, the image mounted
 *     read-only with its {@code image_sub_path} resolved inside it
 */
public record HostInputs(OptionalInt targetPid, Map<Integer, Path> imageVolumes) {
    /** Nothing resolved: no TARGET PID namespace, no image volume. */
    public static final HostInputs NONE = new HostInputs(OptionalInt.empty(), Map.of());

    public HostInputs {
        Objects.requireNonNull(targetPid, "targetPid");
        imageVolumes = Map.copyOf(imageVolumes);
    }

    /** An image volume (KEP-4639): {@code Mount.image} names an image, which wins over {@code host_path}. */
    public static boolean isImageVolume(Mount m) {
        return m.hasImage() && !m.getImage().getImage().isEmpty();
    }
}

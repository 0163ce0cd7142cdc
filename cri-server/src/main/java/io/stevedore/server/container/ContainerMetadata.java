package io.stevedore.server.container;

import java.util.List;
import java.util.Objects;

/**
 * What CreateContainer was given and made, written once and never changed (containerd's {@code
 * containerstore.Metadata}). What changes is in {@link ContainerRecord.Status}.
 *
 * @param id the container id
 * @param sandboxId the pod it belongs to
 * @param name the reserved unique name ({@code name_sandbox_namespace_uid_attempt})
 * @param config the CRI {@code ContainerConfig} as received, protobuf bytes
 * @param imageId the image id it was created from
 * @param imageRef the image reference reported in status: a repo digest when known, else the id
 * @param imageName the image as requested
 * @param layers the chain ids of the snapshots its rootfs is made of, bottom first (kept from
 *     image garbage collection while the container exists, even if the image is removed)
 * @param logPath the CRI log file; empty when the pod has no log directory
 * @param cgroupsPath the OCI cgroupsPath
 * @param createdAt nanoseconds since the epoch
 * @param imageVolumeLayers the chain ids of the snapshots its image volumes ({@code Mount.image})
 *     are made of, kept from image garbage collection like {@code layers} while it exists
 */
public record ContainerMetadata(
        String id,
        String sandboxId,
        String name,
        byte[] config,
        String imageId,
        String imageRef,
        String imageName,
        List<String> layers,
        String logPath,
        String cgroupsPath,
        long createdAt,
        List<String> imageVolumeLayers) {
    public ContainerMetadata {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(sandboxId, "sandboxId");
        layers = layers == null ? List.of() : List.copyOf(layers);
        logPath = logPath == null ? "" : logPath;
        cgroupsPath = cgroupsPath == null ? "" : cgroupsPath;
        imageVolumeLayers = imageVolumeLayers == null ? List.of() : List.copyOf(imageVolumeLayers);
    }
}

package io.stevedore.server.container;

import io.stevedore.server.image.ImageService;
import io.stevedore.server.image.manifest.ImageConfig;
import io.stevedore.server.image.snapshot.SnapshotStore;
import io.stevedore.server.image.store.ImageRecord;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** What containers need of the image store: an image by reference, its config and its layers. */
public interface ContainerImages {
    /** The image a container names (reference, digest, id or unique id prefix). */
    Optional<ImageRecord> find(String image);

    /** The image's config (entrypoint, env, user, stop signal…). */
    ImageConfig config(ImageRecord image);

    /** The directories of the image's layer snapshots, bottom first. */
    List<Path> layers(ImageRecord image);

    /** Over the daemon's image service and snapshot store. */
    static ContainerImages of(ImageService images, SnapshotStore snapshots) {
        return new ContainerImages() {
            @Override
            public Optional<ImageRecord> find(String image) {
                return images.find(image);
            }

            @Override
            public ImageConfig config(ImageRecord image) {
                return images.config(image);
            }

            @Override
            public List<Path> layers(ImageRecord image) {
                return image.chainIds().stream().map(snapshots::fsPath).toList();
            }
        };
    }
}

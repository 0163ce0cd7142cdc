package io.stevedore.server.container;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Mounts nothing: makes the directories and records what is "mounted", for the undo checks; a
 * read-only "mount" (an image volume) is a copy of the layers, so that paths in it resolve.
 */
final class RecordingRootfs implements Rootfs {
    final Set<Path> mounted = ConcurrentHashMap.newKeySet();
    /** When set, the next mount fails with it. */
    volatile IOException failNext;

    @Override
    public void mount(List<Path> lowers, Path upper, Path work, Path target) throws IOException {
        var fail = failNext;
        if (fail != null) {
            failNext = null;
            throw fail;
        }
        Files.createDirectories(upper);
        Files.createDirectories(work);
        Files.createDirectories(target);
        mounted.add(target);
    }

    /** "Mounts" by copying the layers' files (links as links), bottom first, into {@code target}. */
    @Override
    public void mountReadOnly(List<Path> lowers, Path target) throws IOException {
        var fail = failNext;
        if (fail != null) {
            failNext = null;
            throw fail;
        }
        Files.createDirectories(target);
        for (Path layer : lowers) {
            try (var walk = Files.walk(layer)) {
                for (Path src : walk.toList()) {
                    Path dst = target.resolve(layer.relativize(src).toString());
                    if (Files.isDirectory(src, LinkOption.NOFOLLOW_LINKS)) {
                        Files.createDirectories(dst);
                    } else {
                        Files.copy(src, dst, LinkOption.NOFOLLOW_LINKS, StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
        }
        mounted.add(target);
    }

    @Override
    public void unmount(Path target) {
        mounted.remove(target);
    }
}

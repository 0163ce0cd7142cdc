package io.stevedore.server.container;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Mounts nothing: makes the directories and records what is "mounted", for the undo checks. */
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

    @Override
    public void unmount(Path target) {
        mounted.remove(target);
    }
}

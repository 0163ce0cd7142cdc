package io.stevedore.server.state;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tree removal off the caller's path: a tree is renamed into a trash directory on the same
 * filesystem (one metadata operation) and deleted there by a background thread. Unlinking even a
 * container's handful of files takes milliseconds on a filesystem mounted with online discard, and
 * RemoveContainer need not wait for it, as containerd's does not wait for its garbage collector to
 * delete a snapshot's directory. A tree left in the trash by a crash is deleted at the next start.
 */
public final class Trash {
    private static final Logger log = LoggerFactory.getLogger(Trash.class);

    private final Path dir;
    private final AtomicLong seq = new AtomicLong();

    /** Uses (and creates) {@code dir}; what an earlier run left there is deleted in the background. */
    public Trash(Path dir) throws IOException {
        this.dir = Files.createDirectories(dir);
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                deleteLater(p);
            }
        }
    }

    /**
     * Takes {@code p} out of the way now and deletes it soon; nothing when it does not exist.
     * Refuses, as {@link Dirs#deleteTree} does, while anything at or under it is mounted. A tree on
     * another filesystem than the trash is deleted in place.
     */
    public void discard(Path p) throws IOException {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        Dirs.refuseMounted(p, Dirs.mountPoints());
        Path target = dir.resolve(p.getFileName() + "." + seq.incrementAndGet());
        try {
            Files.move(p, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException crossDevice) {
            Dirs.deleteTree(p);
            return;
        } catch (java.nio.file.NoSuchFileException goneMeanwhile) {
            return; // deleted by someone else since the check: nothing to discard
        }
        deleteLater(target);
    }

    private static void deleteLater(Path p) {
        Thread.ofVirtual().name("trash").start(() -> {
            try {
                Dirs.deleteTree(p);
            } catch (IOException | RuntimeException e) {
                log.atWarn().addKeyValue("path", p).setCause(e).log("deleting a discarded tree failed");
            }
        });
    }
}

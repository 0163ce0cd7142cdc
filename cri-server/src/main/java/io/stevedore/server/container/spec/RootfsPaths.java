package io.stevedore.server.container.spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Resolves a path inside a container rootfs the way the container will see it: symlinks are
 * followed relative to the rootfs and {@code ..} stops at its top, so an image whose
 * {@code /etc/passwd} links to {@code /etc/shadow} or {@code ../../..} is read inside itself, never
 * on the host. containerd gets the same from {@code os.OpenRoot}; runc from {@code securejoin}.
 *
 * <p>Nothing in the rootfs runs yet when the spec is generated, so checking and then reading is
 * not racy against the container.
 */
final class RootfsPaths {
    /** Linux's MAXSYMLINKS. */
    private static final int MAX_LINKS = 40;

    private RootfsPaths() {}

    /**
     * {@code rootfs} joined with {@code path} (absolute or relative to the rootfs top), every symlink
     * resolved inside the rootfs; the result may not exist.
     *
     * @throws IOException for a symlink loop or an unreadable link
     */
    static Path resolve(Path rootfs, String path) throws IOException {
        Deque<String> todo = new ArrayDeque<>();
        push(todo, path);
        Deque<String> done = new ArrayDeque<>();
        int links = 0;
        while (!todo.isEmpty()) {
            String part = todo.pop();
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                done.pollLast();
                continue;
            }
            Path candidate = join(rootfs, done).resolve(part);
            if (!Files.isSymbolicLink(candidate)) {
                done.addLast(part);
                continue;
            }
            if (++links > MAX_LINKS) {
                throw new IOException("resolve " + path + " in " + rootfs + ": too many levels of symbolic links");
            }
            String target = Files.readSymbolicLink(candidate).toString();
            if (target.startsWith("/")) {
                done.clear();
            }
            push(todo, target);
        }
        return join(rootfs, done);
    }

    /**
     * {@code path} resolved inside {@code rootfs}, which must be a regular file: reading a FIFO or a
     * device that an image put at {@code /etc/passwd} would block or read forever.
     *
     * @throws NoSuchFileException when it does not exist
     * @throws IOException when it is not a regular file, or cannot be resolved
     */
    static Path regularFile(Path rootfs, String path) throws IOException {
        Path p = resolve(rootfs, path);
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            throw new NoSuchFileException(p.toString());
        }
        if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(path + " in the container rootfs is not a regular file");
        }
        return p;
    }

    private static void push(Deque<String> todo, String path) {
        String[] parts = path.split("/");
        for (int i = parts.length - 1; i >= 0; i--) {
            todo.push(parts[i]);
        }
    }

    private static Path join(Path rootfs, Deque<String> parts) {
        Path p = rootfs;
        for (String part : parts) {
            p = p.resolve(part);
        }
        return p;
    }
}

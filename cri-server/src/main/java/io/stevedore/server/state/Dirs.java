package io.stevedore.server.state;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.BasicFileAttributeView;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** Small helpers the sandbox and container services share: ids, times, tree removal. */
public final class Dirs {
    private static final SecureRandom RANDOM = new SecureRandom();

    private Dirs() {}

    /**
     * Deletes {@code p} and everything under it, symlinks not followed. Refuses while anything at or
     * under it is mounted: deleting through a mount would destroy what is mounted there (an image
     * layer, a host volume).
     */
    public static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) return;
        refuseMounted(p, mountPoints());
        if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            Files.deleteIfExists(p);
            return;
        }
        try (var top = Files.newDirectoryStream(p)) {
            if (!(top instanceof SecureDirectoryStream<Path> root)) {
                throw new IOException("delete " + p + ": no directory-relative operations on this platform");
            }
            flattenAndDelete(root, p);
        }
        Files.deleteIfExists(p);
    }

    /**
     * Empties the directory {@code root} is open on, at any depth, without ever naming a path
     * longer than two components (a container can build a tree deeper than PATH_MAX, which a walk
     * by absolute paths cannot delete, for ever — issue 11): the subdirectories of each top-level
     * directory are moved up to the top level ({@code renameat}), its files unlinked
     * ({@code unlinkat}), then it is removed; until the top level is empty.
     */
    private static void flattenAndDelete(SecureDirectoryStream<Path> root, Path where) throws IOException {
        long moved = 0;
        for (int pass = 0; ; pass++) {
            // A directory stream iterates once: each pass lists the top level afresh, through its fd.
            List<Path> names = new ArrayList<>();
            try (var list = root.newDirectoryStream(Path.of("."), LinkOption.NOFOLLOW_LINKS)) {
                for (Path e : list) {
                    names.add(e.getFileName());
                }
            }
            if (names.isEmpty()) {
                return;
            }
            if (pass > 1_000_000) {
                throw new IOException("delete " + where + ": it keeps growing");
            }
            for (Path name : names) {
                if (!isDirectory(root, name)) {
                    deleteQuietly(() -> root.deleteFile(name));
                    continue;
                }
                try (var sub = root.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS)) {
                    List<Path> children = new ArrayList<>();
                    for (Path c : sub) {
                        children.add(c.getFileName());
                    }
                    for (Path c : children) {
                        if (isDirectory(sub, c)) {
                            sub.move(c, root, Path.of(".del-" + Long.toHexString(System.nanoTime()) + "-" + moved++));
                        } else {
                            deleteQuietly(() -> sub.deleteFile(c));
                        }
                    }
                }
                deleteQuietly(() -> root.deleteDirectory(name));
            }
        }
    }

    private static boolean isDirectory(SecureDirectoryStream<Path> dir, Path name) throws IOException {
        try {
            return dir.getFileAttributeView(name, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                    .readAttributes()
                    .isDirectory();
        } catch (NoSuchFileException e) {
            return false;
        }
    }

    private interface IoAction {
        void run() throws IOException;
    }

    /** Gone already, or (a directory) refilled meanwhile: the next pass sees it again. */
    private static void deleteQuietly(IoAction a) throws IOException {
        try {
            a.run();
        } catch (NoSuchFileException | java.nio.file.DirectoryNotEmptyException e) {
            // next pass
        }
    }

    /** Throws when {@code p} or anything under it is one of {@code mounts}. */
    static void refuseMounted(Path p, List<String> mounts) throws IOException {
        // Compare as the kernel names mount points: absolute, through real directories (the last
        // component is not followed: a symlink there is deleted, not its target).
        Path abs = p.toAbsolutePath().normalize();
        Path real = abs.getParent() == null ? abs : abs.getParent().toRealPath().resolve(abs.getFileName());
        String prefix = real + "/";
        for (String mountPoint : mounts) {
            if (mountPoint.startsWith(prefix) || mountPoint.equals(real.toString())) {
                throw new IOException("refusing to delete " + p + ": " + mountPoint + " is mounted");
            }
        }
    }

    /** This mount namespace's mount points, unescaped, from {@code /proc/self/mountinfo}. */
    public static List<String> mountPoints() throws IOException {
        var out = new ArrayList<String>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            if (f.length > 4) out.add(unescape(f[4]));
        }
        return out;
    }

    /** mountinfo writes space, tab, newline and backslash as octal escapes ({@code \\040}). */
    static String unescape(String field) {
        if (field.indexOf('\\') < 0) return field;
        var sb = new StringBuilder();
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\'
                    && i + 3 < field.length()
                    && field.substring(i + 1, Math.min(i + 4, field.length())).matches("[0-7]{3}")) {
                sb.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /** A new 64-hex-digit id, as containerd and CRI-O make them. */
    public static String newId() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** Now, in nanoseconds since the epoch (CRI timestamps). */
    public static long nowNanos() {
        Instant t = Instant.now();
        return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }
}

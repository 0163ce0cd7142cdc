package io.stevedore.server.container.checkpoint;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A container's changes to its image, read from its overlay upper directory: {@code rootfs-diff.tar}
 * holds every file, directory, link and device the container added or modified (paths relative to
 * the container's {@code /}, owners, modes and mtimes kept, hard links kept as links), and the
 * paths it deleted (overlay whiteouts: character devices 0:0) are returned for {@code
 * deleted.files}, as CRI-O and Podman write both.
 *
 * <p>Mount points are not the container's changes: a path the spec mounts something on, and all
 * below it, is left out (CRI-O skips bind-mount destinations and {@code /dev}, {@code /proc},
 * {@code /sys}, {@code /run} the same way). Sockets are left out (nothing can restore them from a
 * file). Limitation: a directory the container deleted and made again (an opaque directory) is
 * archived with its new content, but the image's old entries below it are not listed as deleted.
 */
public final class RootfsDiff {
    private static final int S_IFMT = 0170000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFIFO = 0010000;

    private RootfsDiff() {}

    /**
     * Writes the archive of {@code upper}'s changes to {@code tar}.
     *
     * @param skip container paths (absolute, normalized) whose entries, and everything below them,
     *     are not changes: the spec's mount destinations
     * @return the container paths deleted ({@code /etc/motd}), in walk order
     */
    public static List<String> write(Path upper, Set<String> skip, Path tar) throws IOException {
        List<String> deleted = new ArrayList<>();
        Map<String, String> firstByInode = new HashMap<>();
        try (OutputStream file = Files.newOutputStream(tar);
                var buffered = new BufferedOutputStream(file, 1 << 16)) {
            var out = new TarOut(buffered);
            Files.walkFileTree(upper, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                    if (dir.equals(upper)) {
                        return FileVisitResult.CONTINUE;
                    }
                    String name = relative(upper, dir);
                    if (skip.contains("/" + name)) {
                        return FileVisitResult.SKIP_SUBTREE;
                    }
                    out.entry(header(dir, name + "/", TarOut.Type.DIR, 0, "", 0), dir);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
                    String name = relative(upper, f);
                    if (skip.contains("/" + name)) {
                        return FileVisitResult.CONTINUE;
                    }
                    Map<String, Object> unix = Files.readAttributes(f, "unix:mode,rdev,ino,dev,nlink", NOFOLLOW);
                    int fmt = (Integer) unix.get("mode") & S_IFMT;
                    long rdev = (Long) unix.get("rdev");
                    if (fmt == S_IFCHR && rdev == 0) {
                        deleted.add("/" + name); // an overlay whiteout
                    } else if (attrs.isSymbolicLink()) {
                        out.entry(
                                header(
                                        f,
                                        name,
                                        TarOut.Type.SYMLINK,
                                        0,
                                        Files.readSymbolicLink(f).toString(),
                                        0),
                                f);
                    } else if (attrs.isRegularFile()) {
                        String key = unix.get("dev") + ":" + unix.get("ino");
                        String first = (Integer) unix.get("nlink") > 1 ? firstByInode.putIfAbsent(key, name) : null;
                        if (first != null) {
                            out.entry(header(f, name, TarOut.Type.HARDLINK, 0, first, 0), f);
                        } else {
                            out.entry(header(f, name, TarOut.Type.FILE, attrs.size(), "", 0), f);
                        }
                    } else if (fmt == S_IFCHR || fmt == S_IFBLK) {
                        var type = fmt == S_IFCHR ? TarOut.Type.CHAR : TarOut.Type.BLOCK;
                        out.entry(header(f, name, type, 0, "", rdev), f);
                    } else if (fmt == S_IFIFO) {
                        out.entry(header(f, name, TarOut.Type.FIFO, 0, "", 0), f);
                    } // S_IFSOCK and anything else: not restorable from a file
                    return FileVisitResult.CONTINUE;
                }
            });
            out.finish();
        }
        return deleted;
    }

    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

    private static TarOut.Header header(Path p, String name, TarOut.Type type, long size, String link, long rdev)
            throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,lastModifiedTime", NOFOLLOW);
        long mtime = ((FileTime) a.get("lastModifiedTime")).toInstant().getEpochSecond();
        // glibc's gnu_dev_major / gnu_dev_minor
        int major = (int) (((rdev >>> 32) & 0xfffff000L) | ((rdev >>> 8) & 0xfffL));
        int minor = (int) (((rdev >>> 12) & 0xffffff00L) | (rdev & 0xffL));
        return new TarOut.Header(
                name,
                type,
                (Integer) a.get("mode") & 07777,
                ((Integer) a.get("uid")) & 0xffffffffL,
                ((Integer) a.get("gid")) & 0xffffffffL,
                mtime,
                size,
                link,
                major,
                minor);
    }

    private static String relative(Path upper, Path p) {
        return upper.relativize(p).toString();
    }
}

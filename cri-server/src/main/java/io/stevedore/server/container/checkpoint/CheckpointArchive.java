package io.stevedore.server.container.checkpoint;

import io.stevedore.server.error.CriException;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The checkpoint archive, in the layout the kubelet's checkpoint API writes through CRI-O and
 * containerd (checkpointctl reads it; both runtimes restore from it): an uncompressed tar of
 *
 * <pre>
 * config.dump       {"id","name","rootfsImage","rootfsImageRef","rootfsImageName","runtime","createdTime","checkpointedTime",…}
 * spec.dump         the container's OCI config.json
 * bind.mounts       CRI-O's list of bind mounts with their file types (restore makes missing sources)
 * dump.log          CRIU's log of the dump
 * stats-dump        CRIU's statistics of the dump
 * deleted.files     JSON list of the paths the container deleted from its image (when any)
 * rootfs-diff.tar   the files the container added or changed ({@link RootfsDiff})
 * container.log     the container's CRI log so far
 * checkpoint/       CRIU's images (every memory page of the processes)
 * </pre>
 *
 * The archive is written beside its location and renamed onto it, mode 0600 (it holds the
 * processes' memory), so a failed or timed-out checkpoint never leaves a partial archive there.
 */
public final class CheckpointArchive {
    public static final String CONFIG_DUMP = "config.dump";
    public static final String SPEC_DUMP = "spec.dump";
    public static final String BIND_MOUNTS = "bind.mounts";
    public static final String DUMP_LOG = "dump.log";
    public static final String STATS_DUMP = "stats-dump";
    public static final String DELETED_FILES = "deleted.files";
    public static final String ROOTFS_DIFF = "rootfs-diff.tar";
    public static final String CONTAINER_LOG = "container.log";
    public static final String CHECKPOINT_DIR = "checkpoint";

    /** Archive order: the small metadata first, so a reader finds it without reading the images. */
    static final List<String> ORDER = List.of(
            CONFIG_DUMP,
            SPEC_DUMP,
            BIND_MOUNTS,
            DUMP_LOG,
            STATS_DUMP,
            DELETED_FILES,
            ROOTFS_DIFF,
            CONTAINER_LOG,
            CHECKPOINT_DIR);

    private static final int MAX_LOCATION = 4096;

    private CheckpointArchive() {}

    /**
     * The request's {@code location}: an absolute path without {@code .} or {@code ..} components,
     * in an existing directory, and not a directory or symbolic link itself.
     *
     * @throws CriException.InvalidArgument naming the field otherwise
     */
    public static Path location(String raw) {
        if (raw == null || raw.isEmpty()) {
            throw new CriException.InvalidArgument("location: must name the archive to write");
        }
        if (raw.length() > MAX_LOCATION || raw.indexOf('\0') >= 0 || !raw.startsWith("/") || raw.endsWith("/")) {
            throw new CriException.InvalidArgument(
                    "location: must be an absolute file path (got \"" + CriException.shown(raw) + "\")");
        }
        Path p = Path.of(raw);
        if (!p.normalize().equals(p) || raw.contains("/./") || raw.contains("//")) {
            throw new CriException.InvalidArgument("location: must not have \".\", \"..\" or empty components (got \""
                    + CriException.shown(raw) + "\")");
        }
        if (!Files.isDirectory(p.getParent())) {
            throw new CriException.InvalidArgument(
                    "location: directory " + CriException.shown(p.getParent().toString()) + " does not exist");
        }
        if (Files.exists(p, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
            throw new CriException.InvalidArgument(
                    "location: " + CriException.shown(raw) + " exists and is not a regular file");
        }
        return p;
    }

    /**
     * Writes the entries of {@link #ORDER} that {@code work} holds into the archive at {@code
     * location}, replacing it atomically.
     *
     * @throws CriException.DeadlineExceeded if {@code deadline} passes while writing (nothing is left
     *     at the location)
     */
    public static void write(Path work, Path location, Instant deadline, InstantSource clock) throws IOException {
        Path tmp = location.resolveSibling("." + location.getFileName() + "."
                + ProcessHandle.current().pid() + "." + Long.toHexString(System.nanoTime()) + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(
                            tmp,
                            Stream.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)
                                    .collect(java.util.stream.Collectors.toSet()),
                            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                    OutputStream raw = java.nio.channels.Channels.newOutputStream(ch);
                    OutputStream buffered = new BufferedOutputStream(raw, 1 << 16)) {
                var tar = new TarOut(buffered);
                for (String name : ORDER) {
                    Path p = work.resolve(name);
                    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) continue;
                    if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                        tar.entry(header(p, name + "/"), p);
                        try (Stream<Path> files = Files.list(p)) {
                            for (Path f : files.sorted().toList()) {
                                check(deadline, clock);
                                if (Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                                    tar.entry(header(f, name + "/" + f.getFileName()), f);
                                }
                            }
                        }
                    } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                        check(deadline, clock);
                        tar.entry(header(p, name), p);
                    }
                }
                tar.finish();
                buffered.flush();
                ch.force(true);
            }
            check(deadline, clock);
            Files.move(tmp, location, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static TarOut.Header header(Path p, String name) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:mode,lastModifiedTime,size", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) a.get("mode") & 07777;
        long mtime = ((java.nio.file.attribute.FileTime) a.get("lastModifiedTime"))
                .toInstant()
                .getEpochSecond();
        return name.endsWith("/")
                ? TarOut.Header.dir(name, mode, mtime)
                : TarOut.Header.file(name, mode, (Long) a.get("size"), mtime);
    }

    private static void check(Instant deadline, InstantSource clock) {
        if (clock.instant().isAfter(deadline)) {
            throw new CriException.DeadlineExceeded("writing the checkpoint archive: the timeout passed");
        }
    }
}

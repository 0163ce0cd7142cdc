package io.stevedore.server.stats;

import io.stevedore.cri.v1.FilesystemIdentifier;
import io.stevedore.cri.v1.FilesystemUsage;
import io.stevedore.cri.v1.UInt64Value;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;

/**
 * Space and inodes a directory tree occupies, as {@code du -s} and containerd's {@code
 * fs.DiskUsage} count them: {@code st_blocks * 512} of every inode, directories and the top
 * included, a hard-linked inode once, symbolic links not followed. This is a container's writable
 * layer in {@code ContainerStats.writable_layer}, which kubelet's ephemeral-storage eviction reads.
 *
 * @param bytes allocated bytes
 * @param inodes distinct inodes
 */
public record DiskUsage(long bytes, long inodes) {
    /**
     * Walks {@code dir}. A tree that does not exist uses nothing; files removed during the walk
     * are skipped (a running container writes while we count).
     *
     * @throws UncheckedIOException when the tree cannot be read
     */
    public static DiskUsage of(Path dir) {
        long[] bytesAndInodes = new long[2];
        Set<Object> linked = new HashSet<>(); // fileKey (dev, ino) of inodes with more than one link
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
                    count(d, attrs);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    count(file, attrs);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    if (e instanceof NoSuchFileException) {
                        return FileVisitResult.CONTINUE; // removed during the walk, or no tree at all
                    }
                    throw e;
                }

                private void count(Path p, BasicFileAttributes attrs) throws IOException {
                    Statx.Inode inode;
                    try {
                        inode = Statx.of(p);
                    } catch (NoSuchFileException e) {
                        return; // removed since the walker saw it
                    }
                    if (!attrs.isDirectory()
                            && inode.nlink() > 1
                            && attrs.fileKey() != null
                            && !linked.add(attrs.fileKey())) {
                        return;
                    }
                    bytesAndInodes[0] += inode.allocatedBytes();
                    bytesAndInodes[1]++;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("measure disk usage of " + dir, e);
        }
        return new DiskUsage(bytesAndInodes[0], bytesAndInodes[1]);
    }

    /**
     * @param at when the tree was measured
     * @param mountpoint the filesystem identifier kubelet matches against {@code ImageFsInfo}'s
     *     {@code container_filesystems}; pass the same path that reports (containerd passes the
     *     snapshotter root, not the layer directory)
     */
    public FilesystemUsage toProto(Instant at, Path mountpoint) {
        return FilesystemUsage.newBuilder()
                .setTimestamp(CriStats.nanos(at))
                .setFsId(FilesystemIdentifier.newBuilder().setMountpoint(mountpoint.toString()))
                .setUsedBytes(UInt64Value.newBuilder().setValue(bytes))
                .setInodesUsed(UInt64Value.newBuilder().setValue(inodes))
                .build();
    }
}

package io.stevedore.server.image;

import io.stevedore.cri.v1.FilesystemIdentifier;
import io.stevedore.cri.v1.FilesystemUsage;
import io.stevedore.cri.v1.ImageFsInfoResponse;
import io.stevedore.cri.v1.UInt64Value;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.InstantSource;
import java.util.HashSet;
import java.util.Set;

/**
 * {@code ImageFsInfo}: bytes and inodes used by image layers (the snapshot tree) and by container
 * writable layers, which kubelet's image garbage collection and eviction read.
 *
 * <p>Usage is the apparent size of every file under each tree, and its inodes, counted without
 * following symbolic links and counting a hard-linked file once (busybox images hold hundreds of
 * links to one binary); a tree that does not exist yet uses nothing.
 */
public final class ImageFsUsage {
    private final Path imageFs;
    private final Path containerFs;
    private final InstantSource clock;

    /**
     * @param imageFs where unpacked image layers live ({@code <root>/snapshots})
     * @param containerFs where container writable layers live ({@code <root>/containers})
     */
    public ImageFsUsage(Path imageFs, Path containerFs, InstantSource clock) {
        this.imageFs = imageFs;
        this.containerFs = containerFs;
        this.clock = clock;
    }

    public ImageFsInfoResponse info() {
        return ImageFsInfoResponse.newBuilder()
                .addImageFilesystems(usage(imageFs))
                .addContainerFilesystems(usage(containerFs))
                .build();
    }

    private FilesystemUsage usage(Path tree) {
        long[] bytesAndInodes = new long[2];
        Set<Object> seen = new HashSet<>();
        try {
            Files.walkFileTree(tree, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    bytesAndInodes[1]++;
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    if (attrs.fileKey() == null || seen.add(attrs.fileKey())) {
                        bytesAndInodes[0] += attrs.isRegularFile() ? attrs.size() : 0;
                        bytesAndInodes[1]++;
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    return FileVisitResult.CONTINUE; // removed while we walked: it uses nothing now
                }
            });
        } catch (NoSuchFileException e) {
            // nothing pulled or created yet
        } catch (IOException e) {
            throw new UncheckedIOException("measure " + tree, e);
        }
        return FilesystemUsage.newBuilder()
                .setTimestamp(clock.instant().toEpochMilli() * 1_000_000L)
                .setFsId(FilesystemIdentifier.newBuilder().setMountpoint(tree.toString()))
                .setUsedBytes(UInt64Value.newBuilder().setValue(bytesAndInodes[0]))
                .setInodesUsed(UInt64Value.newBuilder().setValue(bytesAndInodes[1]))
                .build();
    }
}

package io.stevedore.server.image;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFsUsageTest {
    @TempDir
    Path root;

    @Test
    void info_countsBytesAndInodesOfEachTree() throws IOException {
        Path snaps = Files.createDirectories(root.resolve("snapshots/1/fs"));
        Files.write(snaps.resolve("a"), new byte[1000]);
        Files.write(snaps.resolve("b"), new byte[24]);
        Files.createSymbolicLink(snaps.resolve("link"), Path.of("/etc/passwd"));
        Files.createLink(snaps.resolve("a-again"), snaps.resolve("a"));
        var usage = new ImageFsUsage(
                        root.resolve("snapshots"),
                        root.resolve("containers"),
                        InstantSource.fixed(Instant.ofEpochMilli(7)))
                .info();

        var image = usage.getImageFilesystems(0);
        assertEquals(root.resolve("snapshots").toString(), image.getFsId().getMountpoint());
        assertEquals(1024, image.getUsedBytes().getValue(), "symlink target not followed, hard link counted once");
        assertEquals(6, image.getInodesUsed().getValue(), "3 dirs + 2 files + 1 link");
        assertEquals(7_000_000, image.getTimestamp());

        var containers = usage.getContainerFilesystems(0);
        assertEquals(0, containers.getUsedBytes().getValue(), "absent tree uses nothing");
        assertEquals(0, containers.getInodesUsed().getValue());
    }
}

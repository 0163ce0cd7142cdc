package io.stevedore.server.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateDirsTest {
    @TempDir
    Path tmp;

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void enforce_freshInstall_rootPrivateRunRootTraversableEverythingElsePrivate() throws IOException {
        var layout = new StateLayout(tmp.resolve("root"), tmp.resolve("run"));

        StateDirs.createRoots(layout);
        StateDirs.enforce(layout);

        assertEquals("rwx------", mode(layout.root()));
        assertEquals("rwx--x--x", mode(layout.runRoot()));
        assertEquals("r-xr-xr-x", mode(layout.pauseRoot()));
        for (Path p : new Path[] {
            layout.content(),
            layout.snapshots(),
            layout.images(),
            layout.sandboxRecords(),
            layout.containerRecords(),
            layout.sandboxFiles(),
            layout.containerLayers(),
            layout.bundles(),
            layout.shimSockets(),
            layout.exits(),
            layout.sandboxRun(),
            layout.namespacePins(),
            layout.runtimeRoots(),
            layout.bundlesTrash(),
            layout.containerLayersTrash(),
            layout.checkpoints()
        }) {
            assertEquals("rwx------", mode(p), p.toString());
        }
    }

    @Test
    void enforce_existingLooseInstall_isTightenedAtTheNextStart() throws IOException {
        var layout = new StateLayout(tmp.resolve("root"), tmp.resolve("run"));
        var loose = PosixFilePermissions.fromString("rwxrwxrwx");
        for (Path p : StateDirs.modes(layout).keySet()) {
            Files.createDirectories(p);
            Files.setPosixFilePermissions(p, loose);
        }
        Path oldContainer = Files.createDirectories(layout.containerLayers().resolve("abc/upper"));

        StateDirs.createRoots(layout);
        StateDirs.enforce(layout);

        for (var e : StateDirs.modes(layout).entrySet()) {
            assertEquals(
                    e.getValue(),
                    Files.getPosixFilePermissions(e.getKey()),
                    e.getKey().toString());
        }
        assertTrue(Files.isDirectory(oldContainer), "what is inside is kept");
    }

    @Test
    void enforce_aSymlinkedSubdirectory_isRefusedAndItsTargetLeftAlone() throws IOException {
        var layout = new StateLayout(tmp.resolve("root"), tmp.resolve("run"));
        StateDirs.createRoots(layout);
        Path elsewhere = Files.createDirectory(tmp.resolve("elsewhere"));
        Files.setPosixFilePermissions(elsewhere, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.createSymbolicLink(layout.exits(), elsewhere);

        var e = assertThrows(IOException.class, () -> StateDirs.enforce(layout));

        assertTrue(e.getMessage().contains(layout.exits().toString()), e.getMessage());
        assertEquals("rwxr-xr-x", mode(elsewhere));
    }

    @Test
    void createRoots_aSymlinkedRoot_isFollowed() throws IOException {
        Path disk = Files.createDirectory(tmp.resolve("disk"));
        Files.setPosixFilePermissions(disk, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path root = Files.createSymbolicLink(tmp.resolve("root"), disk);
        var layout = new StateLayout(root, tmp.resolve("run"));

        StateDirs.createRoots(layout);
        StateDirs.enforce(layout);

        assertEquals("rwx------", mode(disk));
        assertTrue(Files.isDirectory(disk.resolve("containers")));
        assertFalse(Files.isSymbolicLink(disk.resolve("containers")));
    }
}

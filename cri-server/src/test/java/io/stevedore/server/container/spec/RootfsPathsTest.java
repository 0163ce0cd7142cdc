package io.stevedore.server.container.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RootfsPathsTest {
    private Path root;

    @BeforeEach
    void setUp(@TempDir Path dir) throws IOException {
        root = Files.createDirectories(dir.resolve("rootfs"));
        Files.createDirectories(root.resolve("etc"));
        Files.createDirectories(root.resolve("usr/lib"));
    }

    @Test
    void resolve_dotDot_stopsAtTheRootfsTop() throws IOException {
        assertEquals(root.resolve("etc/passwd"), RootfsPaths.resolve(root, "../../../etc/passwd"));
    }

    @Test
    void resolve_absoluteSymlink_isReadAsInsideTheRootfs() throws IOException {
        Files.createSymbolicLink(root.resolve("etc/passwd"), Path.of("/usr/lib/passwd"));

        assertEquals(root.resolve("usr/lib/passwd"), RootfsPaths.resolve(root, "/etc/passwd"));
    }

    @Test
    void resolve_relativeSymlinkClimbingOut_staysInside() throws IOException {
        Files.createSymbolicLink(root.resolve("etc/passwd"), Path.of("../../../../usr/lib/passwd"));

        assertEquals(root.resolve("usr/lib/passwd"), RootfsPaths.resolve(root, "etc/passwd"));
    }

    @Test
    void resolve_symlinkedDirectory_isFollowedInside() throws IOException {
        Files.delete(root.resolve("etc"));
        Files.createSymbolicLink(root.resolve("etc"), Path.of("/usr/lib"));

        assertEquals(root.resolve("usr/lib/group"), RootfsPaths.resolve(root, "etc/group"));
    }

    @Test
    void resolve_loop_isAnError() throws IOException {
        Files.createSymbolicLink(root.resolve("etc/a"), Path.of("b"));
        Files.createSymbolicLink(root.resolve("etc/b"), Path.of("a"));

        assertThrows(IOException.class, () -> RootfsPaths.resolve(root, "etc/a"));
    }

    @Test
    void regularFile_missingOrDirectory_areErrors() {
        assertThrows(NoSuchFileException.class, () -> RootfsPaths.regularFile(root, "etc/passwd"));
        assertThrows(IOException.class, () -> RootfsPaths.regularFile(root, "etc"));
    }
}

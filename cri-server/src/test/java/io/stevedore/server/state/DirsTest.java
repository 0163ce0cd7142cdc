package io.stevedore.server.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.stevedore.oci.linux.LinuxSyscalls;
import io.stevedore.oci.linux.SyscallException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirsTest {
    private static final int MNT_DETACH = 2;

    @TempDir
    Path tmp;

    @Test
    void newId_is64LowercaseHexDigits() {
        String id = Dirs.newId();

        assertTrue(id.matches("[0-9a-f]{64}"), id);
    }

    @Test
    void newId_manyCalls_areUnique() {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < 10_000; i++) ids.add(Dirs.newId());

        assertEquals(10_000, ids.size());
    }

    @Test
    void nowNanos_isNanosecondsSinceTheEpoch() {
        long before = System.currentTimeMillis();
        long now = Dirs.nowNanos();
        long after = System.currentTimeMillis();

        assertTrue(now / 1_000_000 >= before && now / 1_000_000 <= after, before + " " + now + " " + after);
    }

    @Test
    void deleteTree_nestedTree_isGone() throws IOException {
        Path root = tmp.resolve("ctr");
        Files.createDirectories(root.resolve("a/b/c"));
        Files.writeString(root.resolve("a/b/c/file"), "x");
        Files.writeString(root.resolve("a/top"), "y");
        Files.createDirectories(root.resolve("empty"));

        Dirs.deleteTree(root);

        assertFalse(Files.exists(root, LinkOption.NOFOLLOW_LINKS));
        assertTrue(Files.isDirectory(tmp), "the parent stays");
    }

    @Test
    void deleteTree_deeperThanPathMax_isGone() throws Exception {
        // Issue 11 item 4: a container can build this in its writable layer; a walk by absolute paths
        // failed with "File name too long" at every start, for ever. Built with relative cd's.
        Path root = Files.createDirectories(tmp.resolve("deep"));
        var p = new ProcessBuilder(
                        "perl",
                        "-e",
                        "chdir $ARGV[0] or die; for (1..2100) { mkdir 'dd' or die; chdir 'dd' or die }"
                                + " open(my $f, '>', 'f') or die; mkdir 'e' or die;",
                        root.toString())
                .inheritIO()
                .start();
        assertEquals(0, p.waitFor());

        Dirs.deleteTree(root);

        assertFalse(Files.exists(root, LinkOption.NOFOLLOW_LINKS));
        try (var left = Files.list(tmp)) {
            assertEquals(List.of(), left.toList(), "nothing moved out of the tree is left beside it");
        }
    }

    @Test
    void deleteTree_singleFile_isDeleted() throws IOException {
        Path f = Files.writeString(tmp.resolve("f"), "x");

        Dirs.deleteTree(f);

        assertFalse(Files.exists(f));
    }

    @Test
    void deleteTree_symlinkInsideToADirOutside_removesTheLinkNotTheTarget() throws IOException {
        Path outside = Files.createDirectories(tmp.resolve("outside/sub"));
        Path precious = Files.writeString(outside.resolve("precious"), "keep me");
        Path root = Files.createDirectories(tmp.resolve("ctr/rootfs"));
        Files.createSymbolicLink(root.resolve("escape"), tmp.resolve("outside"));
        Files.createSymbolicLink(root.resolve("file-link"), precious);

        Dirs.deleteTree(tmp.resolve("ctr"));

        assertFalse(Files.exists(tmp.resolve("ctr"), LinkOption.NOFOLLOW_LINKS));
        assertEquals("keep me", Files.readString(precious));
        assertTrue(Files.isDirectory(outside));
    }

    @Test
    void deleteTree_pathThatIsASymlinkToADir_removesOnlyTheLink() throws IOException {
        Path target = Files.createDirectories(tmp.resolve("target"));
        Path precious = Files.writeString(target.resolve("precious"), "keep me");
        Path link = Files.createSymbolicLink(tmp.resolve("link"), target);

        Dirs.deleteTree(link);

        assertFalse(Files.exists(link, LinkOption.NOFOLLOW_LINKS));
        assertEquals("keep me", Files.readString(precious));
    }

    @Test
    void deleteTree_danglingSymlink_isRemoved() throws IOException {
        Path link = Files.createSymbolicLink(tmp.resolve("dangling"), tmp.resolve("nowhere"));

        Dirs.deleteTree(link);

        assertFalse(Files.exists(link, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void deleteTree_missingPath_isFine() throws IOException {
        Path missing = tmp.resolve("no/such/dir");

        Dirs.deleteTree(missing);

        assertFalse(Files.exists(missing));
    }

    @Test
    void deleteTree_somethingMountedInside_refusesAndKeepsTheMountedFiles() throws Exception {
        assumeTrue(isRoot(), "mounting needs root");
        Path root = Files.createDirectories(tmp.resolve("ctr"));
        Path mnt = Files.createDirectories(root.resolve("volumes/data"));
        mountTmpfsOrSkip(mnt);
        try {
            Path mounted = Files.writeString(mnt.resolve("precious"), "keep me");

            IOException e = assertThrows(IOException.class, () -> Dirs.deleteTree(root));

            assertTrue(Files.exists(mounted), "deleted through the mount: " + e);
            assertTrue(e.getMessage().startsWith("refusing to delete"), e.getMessage());
            assertTrue(e.getMessage().contains(mnt.toString()), e.getMessage());
            assertEquals("keep me", Files.readString(mounted));
        } finally {
            new LinuxSyscalls().umount2(mnt, MNT_DETACH);
        }
    }

    @Test
    void deleteTree_pathItselfIsAMountPoint_refuses() throws Exception {
        assumeTrue(isRoot(), "mounting needs root");
        Path mnt = Files.createDirectories(tmp.resolve("shm"));
        mountTmpfsOrSkip(mnt);
        try {
            Path mounted = Files.writeString(mnt.resolve("precious"), "keep me");

            IOException e = assertThrows(IOException.class, () -> Dirs.deleteTree(mnt));

            assertTrue(Files.exists(mounted), "deleted through the mount: " + e);
            assertTrue(e.getMessage().startsWith("refusing to delete"), e.getMessage());
        } finally {
            new LinuxSyscalls().umount2(mnt, MNT_DETACH);
        }
    }

    @Test
    void deleteTree_siblingWithTheSamePrefixMounted_stillDeletes() throws Exception {
        assumeTrue(isRoot(), "mounting needs root");
        Path root = Files.createDirectories(tmp.resolve("ctr"));
        Files.writeString(root.resolve("f"), "x");
        Path sibling = Files.createDirectories(tmp.resolve("ctr-other"));
        mountTmpfsOrSkip(sibling);
        try {
            Dirs.deleteTree(root);

            assertFalse(Files.exists(root));
        } finally {
            new LinuxSyscalls().umount2(sibling, MNT_DETACH);
        }
    }

    /**
     * /proc/self/mountinfo escapes space, tab, newline and backslash in mount points as octal
     * ({@code \040}); a check comparing raw paths must decode them or it misses such mounts.
     */
    @Test
    void deleteTree_mountUnderADirWithASpaceInItsName_refuses() throws Exception {
        assumeTrue(isRoot(), "mounting needs root");
        Path root = Files.createDirectories(tmp.resolve("pod volumes"));
        Path mnt = Files.createDirectories(root.resolve("data"));
        mountTmpfsOrSkip(mnt);
        try {
            Path mounted = Files.writeString(mnt.resolve("precious"), "keep me");

            IOException e = assertThrows(IOException.class, () -> Dirs.deleteTree(root));

            assertTrue(Files.exists(mounted), "deleted through the mount: " + e);
            assertTrue(e.getMessage().startsWith("refusing to delete"), e.getMessage());
        } finally {
            new LinuxSyscalls().umount2(mnt, MNT_DETACH);
        }
    }

    /** mountinfo holds absolute paths; a relative argument must be made absolute before comparing. */
    @Test
    void deleteTree_relativePathWithAMountInside_refuses() throws Exception {
        assumeTrue(isRoot(), "mounting needs root");
        Path root = Files.createDirectories(tmp.resolve("ctr"));
        Path mnt = Files.createDirectories(root.resolve("m"));
        mountTmpfsOrSkip(mnt);
        try {
            Path mounted = Files.writeString(mnt.resolve("precious"), "keep me");
            Path relative = Path.of("").toAbsolutePath().relativize(root);
            assertFalse(relative.isAbsolute());

            IOException e = assertThrows(IOException.class, () -> Dirs.deleteTree(relative));

            assertTrue(Files.exists(mounted), "deleted through the mount: " + e);
            assertTrue(e.getMessage().startsWith("refusing to delete"), e.getMessage());
        } finally {
            new LinuxSyscalls().umount2(mnt, MNT_DETACH);
        }
    }

    /**
     * mountinfo holds the resolved path; reached through a symlinked ancestor (a state root under a
     * symlinked /var/lib, say) the same mount must still be seen.
     */
    @Test
    void deleteTree_pathThroughASymlinkedAncestorWithAMountInside_refuses() throws Exception {
        assumeTrue(isRoot(), "mounting needs root");
        Path real = Files.createDirectories(tmp.resolve("real"));
        Path mnt = Files.createDirectories(real.resolve("ctr/m"));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), real);
        mountTmpfsOrSkip(mnt);
        try {
            Path mounted = Files.writeString(mnt.resolve("precious"), "keep me");

            IOException e = assertThrows(IOException.class, () -> Dirs.deleteTree(link.resolve("ctr")));

            assertTrue(Files.exists(mounted), "deleted through the mount: " + e);
            assertTrue(e.getMessage().startsWith("refusing to delete"), e.getMessage());
        } finally {
            new LinuxSyscalls().umount2(mnt, MNT_DETACH);
        }
    }

    private static boolean isRoot() throws IOException {
        return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0;
    }

    /** uid 0 without CAP_SYS_ADMIN (an unprivileged container) cannot mount: skip, do not fail. */
    private static void mountTmpfsOrSkip(Path target) throws SyscallException {
        try {
            new LinuxSyscalls().mount("tmpfs", target, "tmpfs", 0, "size=1m");
        } catch (SyscallException e) {
            assumeTrue(false, "cannot mount tmpfs here: " + e.getMessage());
        }
    }
}

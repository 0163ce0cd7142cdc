package io.stevedore.server.container.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RootfsDiffTest {
    @TempDir
    Path tmp;

    @Test
    void write_upperDir_archivesFilesDirsLinksAndModes() throws Exception {
        Path upper = Files.createDirectories(tmp.resolve("upper"));
        Files.createDirectories(upper.resolve("tmp"));
        Files.writeString(upper.resolve("tmp/n"), "42\n");
        Files.setPosixFilePermissions(
                upper.resolve("tmp/n"), java.nio.file.attribute.PosixFilePermissions.fromString("rw-r-----"));
        Files.createSymbolicLink(upper.resolve("tmp/link"), Path.of("n"));
        Files.createLink(upper.resolve("tmp/hard"), upper.resolve("tmp/n"));
        String longName = "d/" + "x".repeat(150);
        Files.createDirectories(upper.resolve("d"));
        Files.writeString(upper.resolve(longName), "long");

        List<String> deleted = RootfsDiff.write(upper, Set.of(), tmp.resolve("diff.tar"));

        var tar = TarListing.of(tmp.resolve("diff.tar"));
        assertEquals(List.of(), deleted);
        assertEquals('2', tar.get("tmp/link").type());
        assertEquals("n", tar.get("tmp/link").link());
        assertEquals('5', tar.get("tmp/").type());
        assertEquals("long", tar.get(longName).text());
        // one of tmp/n and tmp/hard carries the content, the other links to it
        var n = tar.get("tmp/n");
        var hard = tar.get("tmp/hard");
        assertTrue(
                (n.type() == '0' && hard.type() == '1' && hard.link().equals("tmp/n"))
                        || (hard.type() == '0' && n.type() == '1' && n.link().equals("tmp/hard")),
                n + " / " + hard);
        var file = n.type() == '0' ? n : hard;
        assertEquals("42\n", file.text());
        assertEquals(0640, file.mode());
    }

    @Test
    void write_mountDestinations_areNotChanges() throws Exception {
        Path upper = Files.createDirectories(tmp.resolve("upper"));
        Files.createDirectories(upper.resolve("etc"));
        Files.writeString(upper.resolve("etc/resolv.conf"), "");
        Files.writeString(upper.resolve("etc/app.conf"), "mine");
        Files.createDirectories(upper.resolve("proc/sys"));
        Files.writeString(upper.resolve("proc/sys/x"), "hidden");

        RootfsDiff.write(upper, Set.of("/etc/resolv.conf", "/proc"), tmp.resolve("diff.tar"));

        var names = TarListing.of(tmp.resolve("diff.tar")).names();
        assertEquals(List.of("etc/", "etc/app.conf"), names.stream().sorted().toList());
    }

    @Test
    void write_whiteouts_areListedAsDeletedNotArchived() throws Exception {
        assumeTrue(new com.sun.security.auth.module.UnixSystem().getUid() == 0, "mknod needs root");
        Path upper = Files.createDirectories(tmp.resolve("upper/etc"));
        var mknod = new ProcessBuilder("mknod", upper.resolve("motd").toString(), "c", "0", "0")
                .inheritIO()
                .start();
        assertEquals(0, mknod.waitFor());

        List<String> deleted = RootfsDiff.write(tmp.resolve("upper"), Set.of(), tmp.resolve("diff.tar"));

        assertEquals(List.of("/etc/motd"), deleted);
        assertFalse(TarListing.of(tmp.resolve("diff.tar")).names().contains("etc/motd"));
    }
}

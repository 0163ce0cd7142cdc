package io.stevedore.server.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskUsageTest {
    @TempDir
    Path tmp;

    /** An upper dir with what a writable layer holds: files, a hard link, a symlink, a sparse file. */
    private Path layer() throws IOException {
        Path fs = Files.createDirectories(tmp.resolve("upper/etc"));
        Files.write(fs.resolve("passwd"), new byte[100_000]);
        Files.createLink(fs.resolve("passwd-"), fs.resolve("passwd"));
        Files.write(fs.resolve("small"), new byte[10]);
        Files.createSymbolicLink(fs.resolve("link"), Path.of("/etc/passwd"));
        try (var sparse = new RandomAccessFile(fs.resolve("sparse").toFile(), "rw")) {
            sparse.setLength(100L << 20);
            sparse.write(1);
        }
        return tmp.resolve("upper");
    }

    @Test
    void of_countsInodesOnceAndAllocatedBytes() throws IOException {
        DiskUsage u = DiskUsage.of(layer());

        assertEquals(6, u.inodes(), "upper, etc, passwd (twice linked), small, link, sparse");
        assertTrue(u.bytes() >= 100_000 + 10, "at least the written bytes: " + u.bytes());
        assertTrue(u.bytes() < 1 << 20, "the sparse file's hole takes no space, the link no second copy: " + u.bytes());
    }

    @Test
    void of_agreesWithDu() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/du")), "no du here");
        Path upper = layer();

        DiskUsage u = DiskUsage.of(upper);

        assertEquals(du("-sB1", upper.toString()), u.bytes());
        assertEquals(du("-s", "--inodes", upper.toString()), u.inodes());
    }

    private static long du(String... args) throws Exception {
        var cmd = new ArrayList<String>(List.of("du"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return Long.parseLong(out.split("\\s+")[0]);
    }

    @Test
    void of_missingTree_usesNothing() {
        assertEquals(new DiskUsage(0, 0), DiskUsage.of(tmp.resolve("never-created")));
    }

    @Test
    void toProto_carriesTimestampAndMountpoint() {
        var p = new DiskUsage(4096, 3).toProto(Instant.ofEpochSecond(2, 5), Path.of("/var/lib/stevedore/containers"));

        assertEquals(2_000_000_005L, p.getTimestamp());
        assertEquals("/var/lib/stevedore/containers", p.getFsId().getMountpoint());
        assertEquals(4096, p.getUsedBytes().getValue());
        assertEquals(3, p.getInodesUsed().getValue());
    }
}

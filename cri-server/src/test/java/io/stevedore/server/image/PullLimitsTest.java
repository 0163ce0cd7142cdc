package io.stevedore.server.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.stevedore.server.error.CriException;
import io.stevedore.server.grpc.StatusMapping;
import io.stevedore.server.image.manifest.MediaTypes;
import io.stevedore.server.image.registry.Credentials;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** image.max_layer_size and image.max_image_size: a layer that unpacks to too much fails its pull. */
class PullLimitsTest {
    static final long MIB = 1 << 20;

    @TempDir
    Path state;

    PullFixture f;

    @AfterEach
    void close() {
        if (f != null) {
            f.close();
        }
    }

    /** A tar of one file of {@code size} zero bytes, gzipped as it is written: never held whole. */
    record Bomb(byte[] gzipped, String diffId) {}

    static Bomb bomb(long size) throws Exception {
        var gz = new ByteArrayOutputStream();
        var sha = MessageDigest.getInstance("SHA-256");
        try (OutputStream out = new DigestOutputStream(new GZIPOutputStream(gz, 1 << 16), sha)) {
            out.write(header("zeros", size));
            byte[] chunk = new byte[1 << 20];
            for (long left = size; left > 0; left -= chunk.length) {
                out.write(chunk, 0, (int) Math.min(chunk.length, left));
            }
            out.write(new byte[(int) ((512 - size % 512) % 512) + 1024]); // padding, end of archive
        }
        return new Bomb(gz.toByteArray(), "sha256:" + HexFormat.of().formatHex(sha.digest()));
    }

    /** A ustar header for a regular file. */
    static byte[] header(String name, long size) {
        byte[] h = new byte[512];
        put(h, 0, name);
        put(h, 100, "0000644");
        put(h, 108, "0000000");
        put(h, 116, "0000000");
        put(h, 124, String.format("%011o", size));
        put(h, 136, String.format("%011o", 1577836800L));
        Arrays.fill(h, 148, 156, (byte) ' ');
        h[156] = '0';
        put(h, 257, "ustar");
        put(h, 263, "00");
        int sum = 0;
        for (byte x : h) {
            sum += x & 0xff;
        }
        put(h, 148, String.format("%06o", sum));
        h[154] = 0;
        return h;
    }

    static void put(byte[] h, int off, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, off, b.length);
    }

    PullFixture.Image publishBomb(String repo, Bomb bomb) {
        String digest = f.registry.putBlob(repo, bomb.gzipped()).toString();
        return f.publishRaw(
                repo,
                List.of(bomb.diffId()),
                List.of(digest),
                PullFixture.descriptor(MediaTypes.OCI_LAYER_GZIP, digest, bomb.gzipped().length));
    }

    @Test
    void pull_gzipBombOverLayerLimit_isResourceExhaustedAndLeavesNothing() throws Exception {
        f = new PullFixture(state, 3, new ImagePuller.Limits(MIB, 64 * MIB));
        Bomb bomb = bomb(256 * MIB); // 256 MiB of zeros: about 250 KiB gzipped
        var image = publishBomb("team/bomb", bomb);

        var e = assertThrows(
                CriException.ResourceExhausted.class, () -> f.images.pull(image.ref(), Credentials.anonymous()));

        assertEquals(Status.Code.RESOURCE_EXHAUSTED, StatusMapping.toStatus(e).getCode());
        assertTrue(e.getMessage().contains(image.layers().getFirst()), e.getMessage());
        assertTrue(e.getMessage().contains("image.max_layer_size (1048576 bytes)"), e.getMessage());
        assertEquals(List.of(), f.leftovers(), "no snapshot, temp dir, blob or record left");
        assertTrue(f.images.list().isEmpty());
    }

    @Test
    void pull_layersTogetherOverImageLimit_isResourceExhaustedAndLeavesNothing() throws Exception {
        f = new PullFixture(state, 1, new ImagePuller.Limits(MIB, 3 * MIB / 2));
        byte[] big = new byte[800 * 1024];
        var image = f.publish(
                "team/fat",
                List.of(
                        new io.stevedore.server.image.unpack.TestTar()
                                .file("a", new String(big, StandardCharsets.US_ASCII), 0644)
                                .bytes(),
                        new io.stevedore.server.image.unpack.TestTar()
                                .file("b", new String(big, StandardCharsets.US_ASCII), 0644)
                                .bytes()));

        var e = assertThrows(
                CriException.ResourceExhausted.class, () -> f.images.pull(image.ref(), Credentials.anonymous()));

        assertTrue(e.getMessage().contains("image.max_image_size (1572864 bytes)"), e.getMessage());
        assertEquals(List.of(), f.leftovers(), "the layer that fit was discarded with the rest");
    }

    @Test
    void pull_withinLimits_succeeds() throws Exception {
        f = new PullFixture(state, 3, new ImagePuller.Limits(MIB, 2 * MIB));
        Bomb small = bomb(MIB - 1024); // content and one entry stay under the layer limit
        var image = publishBomb("team/small", small);

        f.images.pull(image.ref(), Credentials.anonymous());

        assertTrue(f.complete(image));
    }
}

package io.stevedore.server.image.unpack;

import io.airlift.compress.v3.zstd.ZstdInputStream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;

/**
 * Opens a layer blob as its uncompressed tar stream: gzip, zstd or none. Like containerd's
 * {@code DecompressStream}, the decision is made from the content's magic bytes, so a layer whose
 * media type is wrong about its compression (it happens) still unpacks; a media type that names a
 * compression the content does not have is refused.
 */
public final class Decompression {
    private static final int GZIP_0 = 0x1f;
    private static final int GZIP_1 = 0x8b;
    private static final byte[] ZSTD = {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd};

    private Decompression() {}

    public static InputStream open(InputStream raw, String mediaType) throws IOException {
        var in = new BufferedInputStream(raw, 64 * 1024);
        in.mark(4);
        byte[] magic = in.readNBytes(4);
        in.reset();
        if (magic.length >= 2 && (magic[0] & 0xff) == GZIP_0 && (magic[1] & 0xff) == GZIP_1) {
            return new GZIPInputStream(in, 64 * 1024);
        }
        if (magic.length == 4
                && magic[0] == ZSTD[0]
                && magic[1] == ZSTD[1]
                && magic[2] == ZSTD[2]
                && magic[3] == ZSTD[3]) {
            return new ZstdInputStream(in);
        }
        if (mediaType.endsWith("+zstd")) {
            throw new IOException("layer of type " + mediaType + " is not zstd-compressed");
        }
        return in; // uncompressed tar (or a gzip type that is not: the tar reader decides)
    }
}

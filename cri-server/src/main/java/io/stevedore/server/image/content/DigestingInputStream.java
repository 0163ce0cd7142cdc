package io.stevedore.server.image.content;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Verifies content while it streams somewhere else: counts and hashes (SHA-256) what is read
 * through it, refuses to read past the expected size (a hostile server cannot stream forever), and
 * {@link #verify} drains the rest and checks size and digest. Not thread-safe.
 */
public final class DigestingInputStream extends FilterInputStream {
    private final MessageDigest sha;
    private final String what;
    private final long expectedSize;
    private long count;

    /**
     * @param expectedSize the size the descriptor gives, or -1 when unknown
     * @param what names the content in errors, e.g. {@code blob sha256:…}
     */
    public DigestingInputStream(InputStream in, long expectedSize, String what) {
        super(in);
        this.what = what;
        this.expectedSize = expectedSize;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n > 0) {
            count += n;
            if (expectedSize >= 0 && count > expectedSize) {
                throw new ContentException(what + " is larger than the " + expectedSize + " bytes its descriptor says");
            }
            sha.update(b, off, n);
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        int len = (int) Math.min(n, 64 * 1024);
        return Math.max(read(new byte[len], 0, len), 0); // skipped bytes are hashed too
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    /** Reads to the end, then checks the size (when known) and the digest. */
    public void verify(String expectedDigest) throws IOException {
        byte[] buf = new byte[64 * 1024];
        while (read(buf, 0, buf.length) >= 0) {
            // drain: bytes after the end of a tar archive are part of the blob too
        }
        if (expectedSize >= 0 && count != expectedSize) {
            throw new ContentException(what + " is truncated: got " + count + " of " + expectedSize + " bytes");
        }
        String actual = "sha256:" + HexFormat.of().formatHex(sha.digest());
        if (!actual.equals(expectedDigest)) {
            throw new ContentException(what + ": digest mismatch: expected " + expectedDigest + ", got " + actual);
        }
    }
}

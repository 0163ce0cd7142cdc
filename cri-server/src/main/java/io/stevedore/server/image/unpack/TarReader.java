package io.stevedore.server.image.unpack;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads tar archives as image layers use them: POSIX ustar, GNU long names ({@code L}, {@code K})
 * and PAX extended headers ({@code x}, {@code g}: path, linkpath, size, uid, gid, mtime and
 * {@code SCHILY.xattr.*}). Every header's checksum is verified; a truncated archive is an error,
 * never a silently shorter layer. Not thread-safe.
 */
final class TarReader {
    private static final int BLOCK = 512;
    private static final int MAX_META = 1 << 20; // long names and PAX records: 1 MiB is plenty

    private final InputStream in;
    private final Map<String, String> global = new HashMap<>();
    private long remaining; // of the current entry's data
    private long padding;

    TarReader(InputStream in) {
        this.in = in;
    }

    /** One archive member, with the PAX and GNU overrides applied. */
    record Entry(
            String name,
            char type,
            int mode,
            int uid,
            int gid,
            long mtimeSeconds,
            long mtimeNanos,
            long size,
            String link,
            int devMajor,
            int devMinor,
            Map<String, byte[]> xattrs) {}

    /** The next entry, or null at the end of the archive. Skips what is left of the previous entry's data. */
    Entry next() throws IOException, UnpackException {
        skipRest();
        Map<String, String> pax = new HashMap<>(global);
        Map<String, byte[]> xattrs = new LinkedHashMap<>();
        String longName = null;
        String longLink = null;
        while (true) {
            byte[] h = new byte[BLOCK];
            if (!readFully(h, true)) {
                return null; // clean EOF without end blocks: accepted, as GNU tar does
            }
            if (isZero(h)) {
                return null;
            }
            verifyChecksum(h);
            char type = (char) (h[156] == 0 ? '0' : h[156]);
            long size = number(h, 124, 12);
            if (size < 0) {
                throw new UnpackException("tar header has a negative size");
            }
            switch (type) {
                case 'x', 'g' -> {
                    Map<String, String> records = parsePax(readMeta(size), xattrs, type == 'g');
                    (type == 'g' ? global : pax).putAll(records);
                    if (type == 'g') {
                        pax.putAll(records);
                    }
                    continue;
                }
                case 'L' -> {
                    longName = cString(readMeta(size));
                    continue;
                }
                case 'K' -> {
                    longLink = cString(readMeta(size));
                    continue;
                }
                default -> {}
            }
            String name = string(h, 0, 100);
            if ("ustar".equals(string(h, 257, 5)) && h[345] != 0) {
                name = string(h, 345, 155) + "/" + name;
            }
            if (longName != null) {
                name = longName;
            }
            String link = longLink != null ? longLink : string(h, 157, 100);
            name = pax.getOrDefault("path", name);
            link = pax.getOrDefault("linkpath", link);
            if (pax.containsKey("size")) {
                size = parseLong(pax.get("size"), "size");
            }
            long mtime = number(h, 136, 12);
            long nanos = 0;
            if (pax.containsKey("mtime")) {
                String[] parts = pax.get("mtime").split("\\.", 2);
                mtime = parseLong(parts[0], "mtime");
                if (parts.length == 2) {
                    String frac = (parts[1] + "000000000").substring(0, 9);
                    nanos = parseLong(frac, "mtime");
                }
            }
            int uid = (int) (pax.containsKey("uid") ? parseLong(pax.get("uid"), "uid") : number(h, 108, 8));
            int gid = (int) (pax.containsKey("gid") ? parseLong(pax.get("gid"), "gid") : number(h, 116, 8));
            // As Go's archive/tar: links, devices, directories and FIFOs carry no data, whatever
            // their size field says; every other member's data follows its header, padded to a block.
            boolean noData = type == '1' || type == '2' || type == '3' || type == '4' || type == '5' || type == '6';
            long dataSize = noData ? 0 : size;
            remaining = dataSize;
            padding = (BLOCK - dataSize % BLOCK) % BLOCK;
            return new Entry(
                    name,
                    type,
                    (int) number(h, 100, 8),
                    uid,
                    gid,
                    mtime,
                    nanos,
                    dataSize,
                    link,
                    (int) number(h, 329, 8),
                    (int) number(h, 337, 8),
                    xattrs);
        }
    }

    /** The current entry's data; reads at most its size. */
    InputStream data() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (remaining <= 0) {
                    return -1;
                }
                int n = in.read(b, off, (int) Math.min(len, remaining));
                if (n < 0) {
                    throw new EOFException("tar entry data is truncated");
                }
                remaining -= n;
                return n;
            }
        };
    }

    private void skipRest() throws IOException {
        long skip = remaining + padding;
        byte[] buf = new byte[8192];
        while (skip > 0) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, skip));
            if (n < 0) {
                throw new EOFException("tar archive is truncated");
            }
            skip -= n;
        }
        remaining = 0;
        padding = 0;
    }

    private byte[] readMeta(long size) throws IOException, UnpackException {
        if (size > MAX_META) {
            throw new UnpackException("tar extended header of " + size + " bytes is too large");
        }
        byte[] b = new byte[(int) size];
        if (!readFully(b, false)) {
            throw new UnpackException("tar archive is truncated in an extended header");
        }
        long pad = (BLOCK - size % BLOCK) % BLOCK;
        if (pad > 0 && !readFully(new byte[(int) pad], false)) {
            throw new UnpackException("tar archive is truncated in an extended header");
        }
        return b;
    }

    /** Fills {@code b}; false at a clean EOF before the first byte when {@code eofOk}. */
    private boolean readFully(byte[] b, boolean eofOk) throws IOException {
        int off = 0;
        while (off < b.length) {
            int n = in.read(b, off, b.length - off);
            if (n < 0) {
                if (off == 0 && eofOk) {
                    return false;
                }
                throw new EOFException("tar archive is truncated");
            }
            off += n;
        }
        return true;
    }

    private static Map<String, String> parsePax(byte[] body, Map<String, byte[]> xattrs, boolean global)
            throws UnpackException {
        Map<String, String> out = new HashMap<>();
        int pos = 0;
        while (pos < body.length) {
            int space = indexOf(body, (byte) ' ', pos);
            if (space < 0) {
                throw new UnpackException("malformed PAX record");
            }
            int len = (int) parseLongOrThrow(new String(body, pos, space - pos, StandardCharsets.US_ASCII));
            if (len <= 0 || pos + len > body.length || body[pos + len - 1] != '\n') {
                throw new UnpackException("malformed PAX record length");
            }
            int eq = indexOf(body, (byte) '=', space + 1);
            if (eq < 0 || eq >= pos + len) {
                throw new UnpackException("malformed PAX record");
            }
            String key = new String(body, space + 1, eq - space - 1, StandardCharsets.UTF_8);
            byte[] value = java.util.Arrays.copyOfRange(body, eq + 1, pos + len - 1);
            if (key.startsWith("SCHILY.xattr.") && !global) {
                xattrs.put(key.substring("SCHILY.xattr.".length()), value);
            } else {
                out.put(key, new String(value, StandardCharsets.UTF_8));
            }
            pos += len;
        }
        return out;
    }

    private static long parseLongOrThrow(String s) throws UnpackException {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new UnpackException("malformed PAX record length \"" + s + "\"");
        }
    }

    private static long parseLong(String s, String what) throws UnpackException {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw new UnpackException("malformed PAX " + what + " \"" + s + "\"");
        }
    }

    private static int indexOf(byte[] b, byte c, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == c) {
                return i;
            }
        }
        return -1;
    }

    private static void verifyChecksum(byte[] h) throws UnpackException {
        long stored = number(h, 148, 8);
        long unsigned = 0;
        long signed = 0;
        for (int i = 0; i < BLOCK; i++) {
            byte b = (i >= 148 && i < 156) ? (byte) ' ' : h[i];
            unsigned += b & 0xff;
            signed += b;
        }
        if (stored != unsigned && stored != signed) {
            throw new UnpackException("tar header checksum mismatch (corrupt or not a tar archive)");
        }
    }

    /** An octal field, or GNU base-256 when the high bit of the first byte is set. */
    private static long number(byte[] h, int off, int len) {
        if ((h[off] & 0x80) != 0) {
            long v = h[off] & 0x7f;
            for (int i = 1; i < len; i++) {
                v = (v << 8) | (h[off + i] & 0xff);
            }
            return v;
        }
        long v = 0;
        for (int i = off; i < off + len; i++) {
            byte b = h[i];
            if (b == 0 || b == ' ') {
                if (v != 0) {
                    break;
                }
                continue;
            }
            if (b < '0' || b > '7') {
                break;
            }
            v = v * 8 + (b - '0');
        }
        return v;
    }

    private static String string(byte[] h, int off, int len) {
        int end = off;
        while (end < off + len && h[end] != 0) {
            end++;
        }
        return new String(h, off, end - off, StandardCharsets.UTF_8);
    }

    private static String cString(byte[] b) {
        int end = 0;
        while (end < b.length && b[end] != 0) {
            end++;
        }
        return new String(b, 0, end, StandardCharsets.UTF_8);
    }

    private static boolean isZero(byte[] h) {
        for (byte b : h) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }
}

package io.stevedore.server.container.checkpoint;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a POSIX tar archive as a stream: ustar headers, with a PAX header before an entry whose
 * name, link target, size or owner does not fit one. File contents are copied from disk, so an
 * archive of CRIU images (every memory page of the container) never sits in memory. Not
 * thread-safe; {@link #finish} writes the two zero blocks that end the archive.
 */
final class TarOut {
    /** Entry types, by their ustar type flag. */
    enum Type {
        FILE('0'),
        HARDLINK('1'),
        SYMLINK('2'),
        CHAR('3'),
        BLOCK('4'),
        DIR('5'),
        FIFO('6');
        final char flag;

        Type(char flag) {
            this.flag = flag;
        }
    }

    /** One entry's header; {@code size} only for files, {@code link} for links. */
    record Header(
            String name,
            Type type,
            int mode,
            long uid,
            long gid,
            long mtime,
            long size,
            String link,
            int major,
            int minor) {
        static Header file(String name, int mode, long size, long mtime) {
            return new Header(name, Type.FILE, mode, 0, 0, mtime, size, "", 0, 0);
        }

        static Header dir(String name, int mode, long mtime) {
            return new Header(name, Type.DIR, mode, 0, 0, mtime, 0, "", 0, 0);
        }
    }

    private static final int BLOCK = 512;
    private static final long MAX_OCTAL_8 = 07777777L;
    private static final long MAX_OCTAL_12 = 077777777777L;

    private final OutputStream out;

    TarOut(OutputStream out) {
        this.out = out;
    }

    /** A regular file with {@code data} as its content. */
    void bytes(String name, byte[] data, int mode, long mtime) throws IOException {
        header(Header.file(name, mode, data.length, mtime));
        out.write(data);
        pad(data.length);
    }

    /**
     * An entry; for a file, exactly {@code h.size()} bytes are copied from {@code source} (cut, or
     * padded with zeros, if the file changed size since it was measured: the header is already out).
     */
    void entry(Header h, Path source) throws IOException {
        header(h);
        if (h.type() != Type.FILE || h.size() == 0) {
            return;
        }
        long left = h.size();
        try (InputStream in = Files.newInputStream(source)) {
            byte[] buf = new byte[64 * 1024];
            while (left > 0) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) {
                    break;
                }
                out.write(buf, 0, n);
                left -= n;
            }
        }
        while (left > 0) {
            int n = (int) Math.min(BLOCK, left);
            out.write(new byte[n]);
            left -= n;
        }
        pad(h.size());
    }

    /** The end-of-archive marker; flushes. */
    void finish() throws IOException {
        out.write(new byte[2 * BLOCK]);
        out.flush();
    }

    private void header(Header h) throws IOException {
        Map<String, byte[]> pax = new LinkedHashMap<>();
        if (utf8(h.name()).length > 100) pax.put("path", utf8(h.name()));
        if (utf8(h.link()).length > 100) pax.put("linkpath", utf8(h.link()));
        if (h.size() > MAX_OCTAL_12) pax.put("size", utf8(Long.toString(h.size())));
        if (h.uid() > MAX_OCTAL_8) pax.put("uid", utf8(Long.toString(h.uid())));
        if (h.gid() > MAX_OCTAL_8) pax.put("gid", utf8(Long.toString(h.gid())));
        if (!pax.isEmpty()) {
            var records = new ByteArrayOutputStream();
            for (var e : pax.entrySet()) {
                records.writeBytes(paxRecord(e.getKey(), e.getValue()));
            }
            byte[] body = records.toByteArray();
            out.write(block(new Header("PaxHeader", null, 0644, 0, 0, h.mtime(), body.length, "", 0, 0), 'x'));
            out.write(body);
            pad(body.length);
        }
        out.write(block(h, h.type().flag));
    }

    private void pad(long size) throws IOException {
        int rem = (int) (size % BLOCK);
        if (rem != 0) {
            out.write(new byte[BLOCK - rem]);
        }
    }

    private static byte[] block(Header h, char flag) {
        byte[] b = new byte[BLOCK];
        put(b, 0, 100, utf8(h.name()));
        octal(b, 100, 8, h.mode() & 07777);
        octal(b, 108, 8, Math.min(h.uid(), MAX_OCTAL_8));
        octal(b, 116, 8, Math.min(h.gid(), MAX_OCTAL_8));
        octal(b, 124, 12, Math.min(h.size(), MAX_OCTAL_12));
        octal(b, 136, 12, Math.max(0, Math.min(h.mtime(), MAX_OCTAL_12)));
        Arrays.fill(b, 148, 156, (byte) ' ');
        b[156] = (byte) flag;
        put(b, 157, 100, utf8(h.link()));
        put(b, 257, 6, utf8("ustar\0"));
        put(b, 263, 2, utf8("00"));
        octal(b, 329, 8, h.major());
        octal(b, 337, 8, h.minor());
        long sum = 0;
        for (byte x : b) {
            sum += x & 0xff;
        }
        put(b, 148, 6, utf8(String.format("%06o", sum)));
        b[154] = 0;
        b[155] = ' ';
        return b;
    }

    /** {@code "<len> <key>=<value>\n"}, where len counts itself. */
    private static byte[] paxRecord(String key, byte[] value) {
        int rest = 1 + utf8(key).length + 1 + value.length + 1;
        int len = rest + 1;
        while (Integer.toString(len).length() + rest != len) {
            len++;
        }
        var b = new ByteArrayOutputStream();
        b.writeBytes(utf8(len + " " + key + "="));
        b.writeBytes(value);
        b.write('\n');
        return b.toByteArray();
    }

    private static void put(byte[] b, int off, int len, byte[] v) {
        System.arraycopy(v, 0, b, off, Math.min(len, v.length));
    }

    private static void octal(byte[] b, int off, int len, long v) {
        put(b, off, len - 1, utf8(String.format("%0" + (len - 1) + "o", v)));
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}

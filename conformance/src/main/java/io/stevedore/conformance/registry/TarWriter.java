package io.stevedore.conformance.registry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Writes the tar archives test images are made of: ustar headers, with a PAX header before any
 * entry whose name or link does not fit ustar or that carries xattrs. Deliberately able to write
 * hostile entries ({@code ../x}, absolute names, links anywhere) — that is what the tests need.
 */
public final class TarWriter {
    /** Tar entry types. */
    public enum Type {
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

    /** One entry; {@code data} only for files. */
    public record Entry(
            String name,
            Type type,
            int mode,
            int uid,
            int gid,
            long mtime,
            String link,
            byte[] data,
            int devMajor,
            int devMinor,
            Map<String, byte[]> xattrs) {
        public static Entry file(String name, String content, int mode) {
            return new Entry(
                    name,
                    Type.FILE,
                    mode,
                    0,
                    0,
                    1577836800L,
                    "",
                    content.getBytes(StandardCharsets.UTF_8),
                    0,
                    0,
                    Map.of());
        }

        public static Entry file(String name, byte[] content, int mode) {
            return new Entry(name, Type.FILE, mode, 0, 0, 1577836800L, "", content, 0, 0, Map.of());
        }

        public static Entry dir(String name, int mode) {
            return new Entry(name, Type.DIR, mode, 0, 0, 1577836800L, "", new byte[0], 0, 0, Map.of());
        }

        public static Entry symlink(String name, String target) {
            return new Entry(name, Type.SYMLINK, 0777, 0, 0, 1577836800L, target, new byte[0], 0, 0, Map.of());
        }

        public static Entry hardlink(String name, String target) {
            return new Entry(name, Type.HARDLINK, 0644, 0, 0, 1577836800L, target, new byte[0], 0, 0, Map.of());
        }

        public Entry owner(int u, int g) {
            return new Entry(name, type, mode, u, g, mtime, link, data, devMajor, devMinor, xattrs);
        }
    }

    private final OutputStream out;

    public TarWriter(OutputStream out) {
        this.out = out;
    }

    public void write(Entry e) throws IOException {
        boolean pax = utf8(e.name()).length > 100
                || utf8(e.link()).length > 100
                || !e.xattrs().isEmpty();
        if (pax) {
            var records = new ByteArrayOutputStream();
            if (utf8(e.name()).length > 100) {
                records.write(paxRecord("path", utf8(e.name())));
            }
            if (utf8(e.link()).length > 100) {
                records.write(paxRecord("linkpath", utf8(e.link())));
            }
            for (var x : e.xattrs().entrySet()) {
                records.write(paxRecord("SCHILY.xattr." + x.getKey(), x.getValue()));
            }
            byte[] body = records.toByteArray();
            out.write(header("PaxHeaders/x", 'x', 0644, 0, 0, 0, body.length, "", 0, 0));
            out.write(body);
            pad(body.length);
        }
        long size = e.type() == Type.FILE ? e.data().length : 0;
        out.write(header(
                e.name(),
                e.type().flag,
                e.mode(),
                e.uid(),
                e.gid(),
                e.mtime(),
                size,
                e.link(),
                e.devMajor(),
                e.devMinor()));
        if (size > 0) {
            out.write(e.data());
            pad(size);
        }
    }

    /** The two zero blocks that end an archive. */
    public void finish() throws IOException {
        out.write(new byte[1024]);
        out.flush();
    }

    private void pad(long size) throws IOException {
        int rem = (int) (size % 512);
        if (rem != 0) {
            out.write(new byte[512 - rem]);
        }
    }

    private static byte[] paxRecord(String key, byte[] value) {
        byte[] k = utf8(" " + key + "=");
        int len = k.length + value.length + 1;
        int total = len + String.valueOf(len).length();
        if (String.valueOf(total).length() != String.valueOf(len).length()) {
            total++;
        }
        var b = new ByteArrayOutputStream();
        b.writeBytes(utf8(String.valueOf(total)));
        b.writeBytes(k);
        b.writeBytes(value);
        b.write('\n');
        return b.toByteArray();
    }

    private static byte[] header(
            String name,
            char type,
            int mode,
            int uid,
            int gid,
            long mtime,
            long size,
            String link,
            int major,
            int minor) {
        byte[] h = new byte[512];
        put(h, 0, 100, truncate(name, 100));
        octal(h, 100, 8, mode);
        octal(h, 108, 8, uid);
        octal(h, 116, 8, gid);
        octal(h, 124, 12, size);
        octal(h, 136, 12, mtime);
        java.util.Arrays.fill(h, 148, 156, (byte) ' ');
        h[156] = (byte) type;
        put(h, 157, 100, truncate(link, 100));
        put(h, 257, 6, utf8("ustar\0"));
        put(h, 263, 2, utf8("00"));
        octal(h, 329, 8, major);
        octal(h, 337, 8, minor);
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        byte[] cs = utf8(String.format("%06o", sum));
        System.arraycopy(cs, 0, h, 148, 6);
        h[154] = 0;
        h[155] = ' ';
        return h;
    }

    private static byte[] truncate(String s, int max) {
        byte[] b = utf8(s);
        return b.length <= max ? b : java.util.Arrays.copyOf(b, max);
    }

    private static void put(byte[] h, int off, int len, byte[] v) {
        System.arraycopy(v, 0, h, off, Math.min(len, v.length));
    }

    private static void octal(byte[] h, int off, int len, long v) {
        byte[] s = utf8(String.format("%0" + (len - 1) + "o", v));
        System.arraycopy(s, 0, h, off, len - 1);
        h[off + len - 1] = 0;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}

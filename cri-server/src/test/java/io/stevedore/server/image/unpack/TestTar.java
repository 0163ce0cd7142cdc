package io.stevedore.server.image.unpack;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Builds tar archives for the unpacker's tests, hostile ones included. */
public final class TestTar {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    public TestTar file(String name, String content, int mode) {
        byte[] data = content.getBytes(StandardCharsets.UTF_8);
        header(name, '0', mode, data.length, "", 1577836800L);
        block(data);
        return this;
    }

    public TestTar dir(String name, int mode) {
        return entry(name, '5', mode, "");
    }

    public TestTar symlink(String name, String target) {
        return entry(name, '2', 0777, target);
    }

    public TestTar hardlink(String name, String target) {
        return entry(name, '1', 0644, target);
    }

    public TestTar entry(String name, char type, int mode, String link) {
        header(name, type, mode, 0, link, 1577836800L);
        return this;
    }

    /** A PAX header (path, mtime with fraction, one xattr) followed by a file. */
    public TestTar paxFile(String longName, String mtime, String xattr, String xattrValue, String content) {
        byte[] records = (record("path", longName)
                        + record("mtime", mtime)
                        + record("SCHILY.xattr." + xattr, xattrValue))
                .getBytes(StandardCharsets.UTF_8);
        header("PaxHeaders/x", 'x', 0644, records.length, "", 0);
        block(records);
        return file("ignored-short-name", content, 0644);
    }

    public byte[] bytes() {
        var b = out.toByteArray();
        var all = Arrays.copyOf(b, b.length + 1024);
        return all;
    }

    /** The archive cut short in the middle of its last member. */
    public byte[] truncated() {
        var b = out.toByteArray();
        return Arrays.copyOf(b, b.length - 300);
    }

    private static String record(String key, String value) {
        String body = " " + key + "=" + value + "\n";
        int len = body.getBytes(StandardCharsets.UTF_8).length;
        int total = len + String.valueOf(len).length();
        total = len + String.valueOf(total).length();
        return total + body;
    }

    private void header(String name, char type, int mode, long size, String link, long mtime) {
        byte[] h = new byte[512];
        put(h, 0, name);
        put(h, 100, String.format("%07o", mode));
        put(h, 108, "0000000");
        put(h, 116, "0000000");
        put(h, 124, String.format("%011o", size));
        put(h, 136, String.format("%011o", mtime));
        Arrays.fill(h, 148, 156, (byte) ' ');
        h[156] = (byte) type;
        put(h, 157, link);
        put(h, 257, "ustar");
        put(h, 263, "00");
        int sum = 0;
        for (byte x : h) {
            sum += x & 0xff;
        }
        put(h, 148, String.format("%06o", sum));
        h[154] = 0;
        out.writeBytes(h);
    }

    private void block(byte[] data) {
        out.writeBytes(data);
        int pad = (512 - data.length % 512) % 512;
        out.writeBytes(new byte[pad]);
    }

    private static void put(byte[] h, int off, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(b, 0, h, off, b.length);
    }
}

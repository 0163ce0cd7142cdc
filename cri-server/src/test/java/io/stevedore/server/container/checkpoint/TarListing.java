package io.stevedore.server.container.checkpoint;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads a tar back for tests: each entry's name (PAX path applied), type, mode, owner, link and content. */
public record TarListing(List<TarListing.Entry> entries) {
    public record Entry(String name, char type, int mode, long uid, long gid, String link, byte[] data) {
        public String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    public static TarListing of(Path tar) throws IOException {
        return of(Files.readAllBytes(tar));
    }

    public static TarListing of(byte[] tar) throws IOException {
        InputStream in = new ByteArrayInputStream(tar);
        List<Entry> out = new ArrayList<>();
        String paxPath = null;
        String paxLink = null;
        while (true) {
            byte[] h = in.readNBytes(512);
            if (h.length < 512) throw new IOException("truncated archive");
            if (allZero(h)) break;
            long sum = 0;
            for (int i = 0; i < 512; i++) sum += (i >= 148 && i < 156) ? ' ' : (h[i] & 0xff);
            if (sum != octal(h, 148, 8)) throw new IOException("bad checksum at entry " + out.size());
            long size = octal(h, 124, 12);
            byte[] data = in.readNBytes((int) size);
            in.skipNBytes((512 - size % 512) % 512);
            char type = (char) h[156];
            if (type == 'x') {
                for (String rec : new String(data, StandardCharsets.UTF_8).split("\n")) {
                    String kv = rec.substring(rec.indexOf(' ') + 1);
                    if (kv.startsWith("path=")) paxPath = kv.substring(5);
                    if (kv.startsWith("linkpath=")) paxLink = kv.substring(9);
                }
                continue;
            }
            String name = paxPath != null ? paxPath : str(h, 0, 100);
            String link = paxLink != null ? paxLink : str(h, 157, 100);
            paxPath = null;
            paxLink = null;
            out.add(new Entry(name, type, (int) octal(h, 100, 8), octal(h, 108, 8), octal(h, 116, 8), link, data));
        }
        return new TarListing(List.copyOf(out));
    }

    public List<String> names() {
        return entries.stream().map(Entry::name).toList();
    }

    public Entry get(String name) {
        return entries.stream()
                .filter(e -> e.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no entry " + name + " in " + names()));
    }

    private static boolean allZero(byte[] b) {
        for (byte x : b) if (x != 0) return false;
        return true;
    }

    private static String str(byte[] h, int off, int len) {
        int end = off;
        while (end < off + len && h[end] != 0) end++;
        return new String(h, off, end - off, StandardCharsets.UTF_8);
    }

    private static long octal(byte[] h, int off, int len) {
        String s = str(h, off, len).trim();
        return s.isEmpty() ? 0 : Long.parseLong(s, 8);
    }
}

package io.stevedore.shim;

import java.util.Optional;
import java.util.stream.Stream;

/**
 * Reads {@code /proc/<pid>/mountinfo} lines (proc(5)): {@code id parent major:minor root
 * mount-point options [optional fields...] - fstype source super-options}. Mount points escape
 * space, tab, newline and backslash as {@code \ooo}.
 */
final class PinnsMountInfo {
    private PinnsMountInfo() {}

    /**
     * The namespace ({@code "net:[4026532179]"}, the mount's root) of the topmost nsfs mount on
     * {@code mountPoint}, if the last mount there is an nsfs mount.
     */
    static Optional<String> nsfsMount(Stream<String> lines, String mountPoint) {
        // Later lines are mounted later, so the last mount on the point is the visible one.
        return lines.map(l -> l.split(" "))
                .filter(f -> f.length >= 7 && unescape(f[4]).equals(mountPoint))
                .reduce((a, b) -> b)
                .filter(f -> "nsfs".equals(fsType(f)))
                .map(f -> unescape(f[3]));
    }

    private static String fsType(String[] f) {
        for (int i = 6; i < f.length - 1; i++) {
            if (f[i].equals("-")) return f[i + 1];
        }
        return null;
    }

    static String unescape(String s) {
        if (s.indexOf('\\') < 0) return s;
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && isOctal(s, i + 1)) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static boolean isOctal(String s, int from) {
        if (from + 3 > s.length()) return false;
        for (int i = from; i < from + 3; i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '7') return false;
        }
        return true;
    }
}

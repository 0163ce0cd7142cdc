package io.stevedore.shim;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The shim's one-line sync report: {@code {"pid":N}} or {@code {"error":"<text>"}}. The shim
 * writes exactly these two shapes, so a full JSON parser is not needed.
 */
sealed interface SyncMessage {
    record Pid(int pid) implements SyncMessage {}

    record Failed(String message) implements SyncMessage {}

    Pattern PID = Pattern.compile("\\{\"pid\":(\\d{1,10})}");
    String ERROR_START = "{\"error\":\"";
    String ERROR_END = "\"}";

    /** Parses one line (without its newline); throws IllegalArgumentException if it is neither shape. */
    static SyncMessage parse(String line) {
        String s = line.strip();
        Matcher m = PID.matcher(s);
        if (m.matches()) return new Pid(Integer.parseInt(m.group(1)));
        // The error text is scanned, not matched with a regex: a backtracking pattern over a long
        // runtime error (a 1000-character command path) overflowed the stack.
        if (s.startsWith(ERROR_START)
                && s.endsWith(ERROR_END)
                && s.length() >= ERROR_START.length() + ERROR_END.length()) {
            String body = s.substring(ERROR_START.length(), s.length() - ERROR_END.length());
            String text = unescape(body);
            if (text != null) return new Failed(text);
        }
        throw new IllegalArgumentException(
                "malformed sync message: " + (line.length() > 200 ? line.substring(0, 200) + "…" : line));
    }

    /** A JSON string body without its quotes; null if it has a bare quote or a broken escape. */
    private static String unescape(String s) {
        var out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"') return null;
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (++i >= s.length()) return null;
            char e = s.charAt(i);
            switch (e) {
                case 'u' -> {
                    if (i + 5 > s.length()) return null;
                    try {
                        out.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
                    } catch (NumberFormatException x) {
                        return null;
                    }
                    i += 4;
                }
                case 'n' -> out.append('\n');
                case 't' -> out.append('\t');
                default -> out.append(e);
            }
        }
        return out.toString();
    }
}

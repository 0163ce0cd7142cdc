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

  Pattern PID = Pattern.compile("\\{\"pid\":(\\d+)}");
  Pattern ERROR = Pattern.compile("\\{\"error\":\"((?:[^\"\\\\]|\\\\.)*)\"}");

  /** Parses one line (without its newline); throws IllegalArgumentException if it is neither shape. */
  static SyncMessage parse(String line) {
    String s = line.strip();
    Matcher m = PID.matcher(s);
    if (m.matches()) return new Pid(Integer.parseInt(m.group(1)));
    m = ERROR.matcher(s);
    if (m.matches()) return new Failed(unescape(m.group(1)));
    throw new IllegalArgumentException("malformed sync message: " + line);
  }

  private static String unescape(String s) {
    var out = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c != '\\') {
        out.append(c);
        continue;
      }
      char e = s.charAt(++i);
      switch (e) {
        case 'u' -> {
          out.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
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

package io.stevedore.server.state;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.HexFormat;
import java.util.stream.Stream;

/** Small helpers the sandbox and container services share: ids, times, tree removal. */
public final class Dirs {
  private static final SecureRandom RANDOM = new SecureRandom();

  private Dirs() {}

  /**
   * Deletes {@code p} and everything under it, symlinks not followed. Refuses while anything at or
   * under it is mounted: deleting through a mount would destroy what is mounted there (an image
   * layer, a host volume).
   */
  public static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) return;
    refuseMounted(p, mountPoints());
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(q);
      }
    }
  }

  /** Throws when {@code p} or anything under it is one of {@code mounts}. */
  static void refuseMounted(Path p, List<String> mounts) throws IOException {
    // Compare as the kernel names mount points: absolute, through real directories (the last
    // component is not followed: a symlink there is deleted, not its target).
    Path abs = p.toAbsolutePath().normalize();
    Path real = abs.getParent() == null ? abs : abs.getParent().toRealPath().resolve(abs.getFileName());
    String prefix = real + "/";
    for (String mountPoint : mounts) {
      if (mountPoint.startsWith(prefix) || mountPoint.equals(real.toString())) {
        throw new IOException("refusing to delete " + p + ": " + mountPoint + " is mounted");
      }
    }
  }

  /** This mount namespace's mount points, unescaped, from {@code /proc/self/mountinfo}. */
  public static List<String> mountPoints() throws IOException {
    var out = new ArrayList<String>();
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] f = line.split(" ");
      if (f.length > 4) out.add(unescape(f[4]));
    }
    return out;
  }

  /** mountinfo writes space, tab, newline and backslash as octal escapes ({@code \\040}). */
  static String unescape(String field) {
    if (field.indexOf('\\') < 0) return field;
    var sb = new StringBuilder();
    for (int i = 0; i < field.length(); i++) {
      char c = field.charAt(i);
      if (c == '\\' && i + 3 < field.length()
          && field.substring(i + 1, Math.min(i + 4, field.length())).matches("[0-7]{3}")) {
        sb.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  /** A new 64-hex-digit id, as containerd and CRI-O make them. */
  public static String newId() {
    byte[] b = new byte[32];
    RANDOM.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  /** Now, in nanoseconds since the epoch (CRI timestamps). */
  public static long nowNanos() {
    Instant t = Instant.now();
    return t.getEpochSecond() * 1_000_000_000L + t.getNano();
  }
}

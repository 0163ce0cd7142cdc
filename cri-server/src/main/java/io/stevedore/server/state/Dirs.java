package io.stevedore.server.state;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Comparator;
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
    String prefix = p + "/";
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] f = line.split(" ");
      if (f.length > 4 && (f[4].startsWith(prefix) || f[4].equals(p.toString()))) {
        throw new IOException("refusing to delete " + p + ": " + f[4] + " is mounted");
      }
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(q);
      }
    }
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

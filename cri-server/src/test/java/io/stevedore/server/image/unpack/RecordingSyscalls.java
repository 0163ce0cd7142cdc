package io.stevedore.server.image.unpack;

import io.stevedore.oci.linux.Syscalls;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Records the privileged calls instead of making them; mknod leaves an empty file as a marker. */
final class RecordingSyscalls implements Syscalls {
  final List<String> calls = new ArrayList<>();

  @Override
  public synchronized void mknod(Path path, int mode, int major, int minor) {
    calls.add("mknod " + path.getFileName() + " " + Integer.toOctalString(mode) + " " + major + ":" + minor);
    try {
      Files.createFile(path);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Override
  public synchronized void lsetxattr(Path path, String name, byte[] value) {
    calls.add("lsetxattr " + path.getFileName() + " " + name + "=" + new String(value, StandardCharsets.UTF_8));
  }
}

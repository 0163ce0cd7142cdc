package io.stevedore.oci.linux;

import java.nio.file.Path;

/**
 * The Linux calls the JDK does not offer, behind a seam so unit tests can record instead of
 * call. Implementations are thread-safe.
 */
public interface Syscalls {
  /** {@code mknod(2)}: {@code mode} includes the file type ({@code S_IFCHR}, {@code S_IFBLK}, {@code S_IFIFO}). */
  void mknod(Path path, int mode, int major, int minor) throws SyscallException;

  /** {@code lsetxattr(2)}: sets an extended attribute without following a final symlink. */
  void lsetxattr(Path path, String name, byte[] value) throws SyscallException;

  int S_IFIFO = 0010000;
  int S_IFCHR = 0020000;
  int S_IFBLK = 0060000;
}

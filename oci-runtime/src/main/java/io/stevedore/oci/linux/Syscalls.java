package io.stevedore.oci.linux;

import java.nio.file.Path;
import java.time.Instant;

/**
 * The Linux calls the JDK does not offer, behind a seam so unit tests can record instead of
 * call. Implementations are thread-safe.
 */
public interface Syscalls {
  /** {@code mknod(2)}: {@code mode} includes the file type ({@code S_IFCHR}, {@code S_IFBLK}, {@code S_IFIFO}). */
  void mknod(Path path, int mode, int major, int minor) throws SyscallException;

  /**
   * {@code chmod(2)} by path, full mode including setuid, setgid and sticky. Unlike the JDK's
   * attribute views it never opens the file, so it is safe on FIFOs and device nodes (opening a
   * FIFO with no writer blocks forever). Follows a final symlink: never call it on one.
   */
  void chmod(Path path, int mode) throws SyscallException;

  /**
   * {@code utimensat(2)} with {@code AT_SYMLINK_NOFOLLOW}: sets access and modification times of
   * the path itself (a symlink's own times), without opening it.
   */
  void utimensat(Path path, Instant atime, Instant mtime) throws SyscallException;

  /** {@code lsetxattr(2)}: sets an extended attribute without following a final symlink. */
  void lsetxattr(Path path, String name, byte[] value) throws SyscallException;

  int S_IFIFO = 0010000;
  int S_IFCHR = 0020000;
  int S_IFBLK = 0060000;
}

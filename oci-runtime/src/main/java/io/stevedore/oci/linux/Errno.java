package io.stevedore.oci.linux;

/** Names for the errno values callers branch on. */
public final class Errno {
  public static final int EPERM = 1;
  public static final int ENOENT = 2;
  public static final int ESRCH = 3;
  public static final int EEXIST = 17;
  public static final int EINVAL = 22;
  public static final int ENOTSUP = 95;

  private Errno() {}

  public static String name(int errno) {
    return switch (errno) {
      case EPERM -> "EPERM";
      case ENOENT -> "ENOENT";
      case EEXIST -> "EEXIST";
      case EINVAL -> "EINVAL";
      case ENOTSUP -> "ENOTSUP";
      case 13 -> "EACCES";
      case 20 -> "ENOTDIR";
      case 28 -> "ENOSPC";
      case 30 -> "EROFS";
      case 34 -> "ERANGE";
      case 61 -> "ENODATA";
      default -> "errno " + errno;
    };
  }

  static String describe(int errno) {
    return switch (errno) {
      case EPERM -> "operation not permitted";
      case ENOENT -> "no such file or directory";
      case EEXIST -> "file exists";
      case EINVAL -> "invalid argument";
      case ENOTSUP -> "operation not supported";
      case 13 -> "permission denied";
      case 28 -> "no space left on device";
      default -> "see errno(3)";
    };
  }
}

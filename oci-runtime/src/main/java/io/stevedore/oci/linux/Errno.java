package io.stevedore.oci.linux;

/** Names for the errno values callers branch on. */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int ESRCH = 3;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int EBADF = 9;
    public static final int ECHILD = 10;
    public static final int EAGAIN = 11;
    public static final int EEXIST = 17;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
    public static final int ENAMETOOLONG = 36;
    public static final int EPROTO = 71;
    public static final int ENOTSUP = 95;
    public static final int EADDRINUSE = 98;
    public static final int ECONNABORTED = 103;
    public static final int EDQUOT = 122;

    private Errno() {}

    public static String name(int errno) {
        return switch (errno) {
            case EPERM -> "EPERM";
            case ENOENT -> "ENOENT";
            case ESRCH -> "ESRCH";
            case EINTR -> "EINTR";
            case EIO -> "EIO";
            case EBADF -> "EBADF";
            case ECHILD -> "ECHILD";
            case EAGAIN -> "EAGAIN";
            case EEXIST -> "EEXIST";
            case EINVAL -> "EINVAL";
            case ENAMETOOLONG -> "ENAMETOOLONG";
            case EPROTO -> "EPROTO";
            case ENOTSUP -> "ENOTSUP";
            case EADDRINUSE -> "EADDRINUSE";
            case ECONNABORTED -> "ECONNABORTED";
            case EDQUOT -> "EDQUOT";
            case 13 -> "EACCES";
            case 20 -> "ENOTDIR";
            case 24 -> "EMFILE";
            case ENOSPC -> "ENOSPC";
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
            case ESRCH -> "no such process";
            case EIO -> "input/output error";
            case EBADF -> "bad file descriptor";
            case ECHILD -> "no child processes";
            case EEXIST -> "file exists";
            case EINVAL -> "invalid argument";
            case ENAMETOOLONG -> "file name too long";
            case EPROTO -> "protocol error";
            case ENOTSUP -> "operation not supported";
            case EADDRINUSE -> "address already in use";
            case 13 -> "permission denied";
            case 24 -> "too many open files";
            case ENOSPC -> "no space left on device";
            case EDQUOT -> "disk quota exceeded";
            default -> "see errno(3)";
        };
    }
}

package io.stevedore.oci.linux;

import java.io.IOException;

/** A system call failed; {@link #errno()} says why. */
public final class SyscallException extends IOException {
    private final int errno;

    public SyscallException(String call, Object path, int errno) {
        super(call + " " + path + ": " + Errno.name(errno) + " (" + Errno.describe(errno) + ")");
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}

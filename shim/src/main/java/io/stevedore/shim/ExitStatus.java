package io.stevedore.shim;

/**
 * How a container's init process ended, as recorded by its shim.
 *
 * @param code the exit code; {@code 128 + signal} when it was killed by a signal
 * @param oomKilled whether its memory cgroup recorded an OOM kill while it ran (best effort)
 */
public record ExitStatus(int code, boolean oomKilled) {
    public ExitStatus {
        if (code < 0 || code > 255) throw new IllegalArgumentException("exit code out of range: " + code);
    }
}

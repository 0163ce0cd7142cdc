package io.stevedore.shim;

/**
 * The shim ran {@code <runtime> create} successfully.
 *
 * @param pid the container's init process (from the runtime's pid file), in the host PID namespace
 */
public record ShimStarted(int pid) {
    public ShimStarted {
        if (pid <= 0) throw new IllegalArgumentException("pid must be positive: " + pid);
    }
}

package io.stevedore.server.container;

import io.stevedore.shim.ShimException;
import io.stevedore.shim.ShimSpec;
import io.stevedore.shim.ShimStarted;

/**
 * Starts a container's monitor: the shim that runs {@code <runtime> create}, holds the container's
 * stdio and writes its exit file (shim/PROTOCOL.md). The mechanism is {@link
 * io.stevedore.shim.ShimLauncher}; tests use a fake.
 */
@FunctionalInterface
public interface Shims {
    /**
     * Starts the shim and returns once the container is created (its init waits for {@code start}).
     *
     * @throws ShimException with the runtime's own message when the shim or the create failed
     */
    ShimStarted start(ShimSpec spec) throws ShimException, InterruptedException;
}

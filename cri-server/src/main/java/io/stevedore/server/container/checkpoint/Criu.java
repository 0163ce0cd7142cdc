package io.stevedore.server.container.checkpoint;

import java.nio.file.Path;

/**
 * CRIU as CheckpointContainer needs it: a binary that passes {@code criu check} on this kernel.
 * The mechanism is {@link CriuCheck}; tests use a lambda.
 */
@FunctionalInterface
public interface Criu {
    /**
     * The CRIU binary to dump with.
     *
     * @throws io.stevedore.server.error.CriException.FailedPrecondition naming why there is none that
     *     works: not installed, or {@code criu check}'s own complaint
     */
    Path require();
}

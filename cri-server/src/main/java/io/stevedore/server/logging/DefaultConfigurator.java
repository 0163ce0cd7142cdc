package io.stevedore.server.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.util.Optional;

/**
 * Found by logback through {@code ServiceLoader}, so that it never scans the class path for XML
 * configuration (slow) nor prints its own status lines: JSON lines at INFO to standard error until
 * {@link Logging#configure} applies the daemon's settings.
 */
public final class DefaultConfigurator extends ContextAwareBase implements Configurator {
    @Override
    public ExecutionStatus configure(LoggerContext ctx) {
        Logging.install(ctx, Level.INFO, Optional.empty());
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}

package io.stevedore.server.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.OutputStreamAppender;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sets up the daemon's logging in code: JSON lines to standard error or to a file, one threshold.
 * No XML is parsed at start-up; {@link DefaultConfigurator} covers the moment before this runs.
 */
public final class Logging {
    private Logging() {}

    /**
     * Replaces whatever logging is in place.
     *
     * @param level one of trace, debug, info, warn, error
     * @param file where to append; empty for standard error
     */
    public static void configure(String level, Optional<Path> file) {
        var ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        ctx.reset();
        install(ctx, Level.toLevel(level, Level.INFO), file);
    }

    static void install(LoggerContext ctx, Level level, Optional<Path> file) {
        var encoder = new JsonLinesEncoder();
        encoder.setContext(ctx);
        encoder.start();
        OutputStreamAppender<ILoggingEvent> appender;
        if (file.isPresent()) {
            var f = new FileAppender<ILoggingEvent>();
            f.setFile(file.get().toString());
            f.setAppend(true);
            appender = f;
        } else {
            var c = new ConsoleAppender<ILoggingEvent>();
            c.setTarget("System.err");
            appender = c;
        }
        appender.setName("main");
        appender.setContext(ctx);
        appender.setEncoder(encoder);
        appender.start();
        var root = ctx.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(level);
        root.addAppender(appender);
        // Netty and gRPC are chatty at DEBUG about their own internals; keep them at INFO or above.
        ctx.getLogger("io.netty").setLevel(level.isGreaterOrEqual(Level.INFO) ? level : Level.INFO);
        ctx.getLogger("io.grpc").setLevel(level.isGreaterOrEqual(Level.INFO) ? level : Level.INFO);
        // gRPC's Netty server asks every accepted channel for SO_KEEPALIVE, which a Unix socket does
        // not have: one warning per connection, and crictl connects once per command.
        ctx.getLogger("io.netty.bootstrap").setLevel(Level.ERROR);
    }
}

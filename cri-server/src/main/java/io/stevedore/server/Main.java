package io.stevedore.server;

import io.stevedore.server.logging.Logging;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * {@code stevedore}: reads the configuration, starts the daemon and runs until SIGTERM or SIGINT,
 * then shuts down cleanly and exits 0.
 *
 * <p>Exit codes: 0 after a clean shutdown, 1 when the daemon cannot start (bad configuration,
 * another daemon on the same state, the socket taken), 2 for a bad command line.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        Flags flags;
        try {
            flags = Flags.parse(args);
        } catch (ConfigException e) {
            System.err.println("stevedore: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (flags.help()) {
            System.out.print(Flags.USAGE);
            return;
        }
        if (flags.version()) {
            System.out.println("stevedore " + BuildInfo.version());
            return;
        }
        DaemonConfig config;
        try {
            var file = flags.config().orElse(DaemonConfig.DEFAULT_CONFIG_FILE);
            config = flags.applyTo(new ConfigLoader().load(file, flags.config().isPresent()));
        } catch (ConfigException e) {
            System.err.println("stevedore: configuration: " + e.getMessage());
            System.exit(1);
            return;
        }
        Logging.configure(config.logLevel().name().toLowerCase(Locale.ROOT), config.logFile());
        System.exit(run(config));
    }

    private static int run(DaemonConfig config) {
        Logger log = LoggerFactory.getLogger(Main.class);
        var stop = new CountDownLatch(1);
        // The JVM's own SIGTERM handling exits with 143 after the shutdown hooks; kubelet-style
        // supervisors expect a daemon that was asked to stop to exit 0, so we take the signals.
        Signal.handle(new Signal("TERM"), s -> stop.countDown());
        Signal.handle(new Signal("INT"), s -> stop.countDown());

        var daemon = new CriDaemon(config);
        try {
            daemon.start();
        } catch (DaemonStartException e) {
            log.atError().addKeyValue("root", config.root()).log(e.getMessage());
            System.err.println("stevedore: " + e.getMessage());
            return 1;
        }
        try {
            stop.await();
            log.info("stopping on signal");
            daemon.close();
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }
}

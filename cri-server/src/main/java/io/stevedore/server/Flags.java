package io.stevedore.server;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * The command line. Flags override the file for the common knobs; everything else lives in the
 * file. Both {@code --flag value} and {@code --flag=value} are accepted.
 */
record Flags(
        Optional<Path> config,
        Optional<Path> socket,
        Optional<Path> root,
        Optional<Path> runRoot,
        Optional<DaemonConfig.LogLevel> logLevel,
        Optional<Path> logFile,
        boolean help,
        boolean version) {

    static final String USAGE = """
      usage: stevedore [flags]

        --config PATH      configuration file (default /etc/stevedore/stevedore.toml; optional)
        --socket PATH      CRI socket (default /run/stevedore/stevedore.sock)
        --root PATH        persistent state (default /var/lib/stevedore)
        --run-root PATH    volatile state on tmpfs (default /run/stevedore)
        --log-level LEVEL  trace, debug, info, warn or error (default info)
        --log-file PATH    append JSON-lines logs here instead of standard error
        --version          print the version and exit
        --help             print this and exit
      """;

    static Flags parse(String... args) throws ConfigException {
        Optional<Path> config = Optional.empty(), socket = Optional.empty(), root = Optional.empty();
        Optional<Path> runRoot = Optional.empty(), logFile = Optional.empty();
        Optional<DaemonConfig.LogLevel> level = Optional.empty();
        boolean help = false, version = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String name = arg, value = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                name = arg.substring(0, eq);
                value = arg.substring(eq + 1);
            }
            switch (name) {
                case "--help", "-h" -> help = true;
                case "--version" -> version = true;
                case "--config", "--socket", "--root", "--run-root", "--log-level", "--log-file" -> {
                    if (value == null) {
                        if (i + 1 >= args.length) {
                            throw new ConfigException(name + ": needs a value");
                        }
                        value = args[++i];
                    }
                    switch (name) {
                        case "--config" -> config = Optional.of(path(name, value));
                        case "--socket" -> socket = Optional.of(path(name, value));
                        case "--root" -> root = Optional.of(path(name, value));
                        case "--run-root" -> runRoot = Optional.of(path(name, value));
                        case "--log-file" -> logFile = Optional.of(path(name, value));
                        default -> level = Optional.of(level(value));
                    }
                }
                default -> throw new ConfigException("unknown flag " + arg + " (see --help)");
            }
        }
        return new Flags(config, socket, root, runRoot, level, logFile, help, version);
    }

    /** The file's configuration with these flags applied on top. */
    DaemonConfig applyTo(DaemonConfig c) {
        Path runRootValue = runRoot.orElse(c.runRoot());
        // A socket left at its default follows --run-root, as it does in the file.
        Path defaultSocket = c.runRoot().resolve("stevedore.sock");
        Path socketValue =
                socket.orElse(c.socket().equals(defaultSocket) ? runRootValue.resolve("stevedore.sock") : c.socket());
        return new DaemonConfig(
                socketValue,
                c.socketGroup(),
                root.orElse(c.root()),
                runRootValue,
                logLevel.orElse(c.logLevel()),
                logFile.isPresent() ? logFile : c.logFile(),
                c.shutdownTimeout(),
                c.cgroupDriver(),
                c.defaultRuntimeHandler(),
                c.runtimeHandlers(),
                c.criuPath(),
                c.cniConfDir(),
                c.cniBinDirs(),
                c.images(),
                c.stream(),
                c.limits());
    }

    private static Path path(String flag, String value) throws ConfigException {
        if (value.isEmpty()) {
            throw new ConfigException(flag + ": must not be empty");
        }
        return Path.of(value).toAbsolutePath().normalize();
    }

    private static DaemonConfig.LogLevel level(String value) throws ConfigException {
        try {
            return DaemonConfig.LogLevel.valueOf(value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(
                    "--log-level: must be one of trace, debug, info, warn, error (got \"" + value + "\")");
        }
    }
}

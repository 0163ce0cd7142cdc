package io.stevedore.server.host;

import io.stevedore.oci.runtime.OciRuntime;
import io.stevedore.oci.runtime.RuncCli;
import io.stevedore.server.DaemonConfig;
import io.stevedore.server.error.CriException;
import io.stevedore.server.state.StateLayout;
import java.io.FileNotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** The configured OCI runtimes by CRI runtime handler name; the empty name is the default. */
public final class Runtimes {
    private final Map<String, OciRuntime> byHandler = new LinkedHashMap<>();
    private final String defaultHandler;

    public Runtimes(DaemonConfig config, StateLayout layout) throws FileNotFoundException {
        this.defaultHandler = config.defaultRuntimeHandler();
        for (var e : config.runtimeHandlers().entrySet()) {
            Path root = e.getValue().root().orElse(layout.runtimeRoot(e.getKey()));
            String bin = resolve(e.getValue().path());
            var cli = new RuncCli(bin, root, config.cgroupDriver() == DaemonConfig.CgroupDriver.SYSTEMD)
                    .withTimeout(java.time.Duration.ofSeconds(30));
            // a configured CRIU goes first on the runtime's PATH; "criu" is the runtime's own lookup
            byHandler.put(e.getKey(), config.criuPath().contains("/") ? cli.withCriu(Path.of(config.criuPath())) : cli);
        }
    }

    /** Given runtimes (tests: fakes), by handler name. */
    public Runtimes(String defaultHandler, Map<String, ? extends OciRuntime> runtimes) {
        this.defaultHandler = defaultHandler;
        byHandler.putAll(runtimes);
    }

    /** The handler's name with the default applied. */
    public String name(String handler) {
        return handler == null || handler.isEmpty() ? defaultHandler : handler;
    }

    /** The runtime of {@code handler}; unknown handlers are an invalid argument. */
    public OciRuntime get(String handler) {
        OciRuntime r = byHandler.get(name(handler));
        if (r == null) {
            throw new CriException.InvalidArgument("no runtime for \"" + handler + "\" is configured");
        }
        return r;
    }

    /** Every configured runtime by handler name, in configuration order. */
    public Map<String, OciRuntime> all() {
        return java.util.Collections.unmodifiableMap(byHandler);
    }

    /** The handler a pod that names none gets. */
    public String defaultHandler() {
        return defaultHandler;
    }

    public boolean has(String handler) {
        return byHandler.containsKey(name(handler));
    }

    /** An absolute binary path: the shim needs one. Names are looked up on PATH. */
    private static String resolve(String path) {
        if (path.contains("/")) return path;
        String env =
                System.getenv().getOrDefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        for (String dir : env.split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, path);
            if (Files.isExecutable(p)) return p.toAbsolutePath().toString();
        }
        return path;
    }
}

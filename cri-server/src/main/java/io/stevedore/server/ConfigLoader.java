package io.stevedore.server;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import io.stevedore.server.DaemonConfig.CgroupDriver;
import io.stevedore.server.DaemonConfig.LogLevel;
import io.stevedore.server.DaemonConfig.RuntimeHandler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Reads {@code stevedore.toml} into a {@link DaemonConfig}, strictly: an unknown key, a value of
 * the wrong type or out of range is reported with the file and the dotted key, and nothing is
 * guessed. A missing default file is not an error (defaults work without it); a missing file
 * named explicitly is.
 *
 * <pre>{@code
 * root = "/var/lib/stevedore"
 * run_root = "/run/stevedore"
 * socket = "/run/stevedore/stevedore.sock"
 * socket_group = ""         # owner group of the socket (0660): a name or a gid; empty: root's
 * shutdown_timeout = "10s"
 *
 * [log]
 * level = "info"            # trace | debug | info | warn | error
 * file = ""                 # empty: standard error
 *
 * [runtime]
 * cgroup_driver = "cgroupfs"
 * default_handler = "runc"
 * criu_path = "criu"        # CheckpointContainer's CRIU: "criu" on PATH, or /abs/path/to/criu
 * [runtime.handlers.runc]
 * path = "runc"
 * root = ""                 # empty: <run_root>/runtime/<handler>
 *
 * [cni]
 * conf_dir = "/etc/cni/net.d"
 * bin_dirs = ["/opt/cni/bin", "/usr/lib/cni"]
 *
 * [image]
 * registry_config_dir = "/etc/stevedore/certs.d"
 * max_concurrent_downloads = 3
 * no_progress_timeout = "5m"
 * max_layer_size = 34359738368   # bytes one layer may unpack to (32 GiB)
 * max_image_size = 68719476736   # bytes all layers of one pull may unpack to (64 GiB)
 *
 * [stream]
 * address = "127.0.0.1"
 * port = 0                  # 0: ephemeral
 * idle_timeout = "4h"
 * tls_cert = ""             # both or neither: HTTPS
 * tls_key = ""
 *
 * [limits]
 * exec_sync_output = 16711680   # bytes of ExecSync stdout + stderr kept per call
 * container_events_buffer = 1000  # events a GetContainerEvents subscriber may lag behind
 * }</pre>
 */
public final class ConfigLoader {
    private final TomlMapper toml = new TomlMapper();

    /**
     * Loads the file, or the defaults if {@code file} is the default path and does not exist.
     *
     * @param explicit whether the user named the file (then it must exist)
     */
    public DaemonConfig load(Path file, boolean explicit) throws ConfigException {
        JsonNode tree;
        try {
            tree = toml.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            if (explicit) {
                throw new ConfigException(file + ": no such file");
            }
            return DaemonConfig.defaults();
        } catch (JacksonException e) {
            throw new ConfigException(file + ": not valid TOML: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage(), e);
        }
        return parse(file.toString(), tree == null ? toml.createObjectNode() : (ObjectNode) tree);
    }

    /** Parses an already-read tree; {@code source} names it in error messages. */
    DaemonConfig parse(String source, ObjectNode tree) throws ConfigException {
        var d = DaemonConfig.defaults();
        var top = new Table(source, "", tree);
        Path root = top.path("root", d.root());
        Path runRoot = top.path("run_root", d.runRoot());
        Path socket = top.path("socket", runRoot.resolve("stevedore.sock"));
        String socketGroup = top.string("socket_group", d.socketGroup());
        if (!socketGroup.isEmpty() && !socketGroup.matches("[^\\s\\p{Cntrl}:/,]+") || socketGroup.startsWith("-")) {
            // resolved at start-up (the group database may change until then); only its form here
            throw top.error("socket_group", "must be a group name or a numeric gid (got \"" + socketGroup + "\")");
        }
        Duration shutdown = top.duration("shutdown_timeout", d.shutdownTimeout());

        var log = top.table("log");
        LogLevel level = log.enumValue("level", LogLevel.class, d.logLevel());
        Optional<Path> logFile = log.optionalPath("file");
        log.finish();

        var rt = top.table("runtime");
        CgroupDriver driver = rt.enumValue("cgroup_driver", CgroupDriver.class, d.cgroupDriver());
        String defaultHandler = rt.string("default_handler", d.defaultRuntimeHandler());
        String criuPath = rt.string("criu_path", d.criuPath());
        if (!criuPath.equals("criu") && !(criuPath.startsWith("/") && criuPath.endsWith("/criu"))) {
            // the OCI runtime looks CRIU up as "criu" on PATH: we can put a directory first, not rename it
            throw rt.error(
                    "criu_path", "must be \"criu\" or an absolute path ending in /criu (got \"" + criuPath + "\")");
        }
        Map<String, RuntimeHandler> handlers = new LinkedHashMap<>(d.runtimeHandlers());
        var hs = rt.table("handlers");
        for (String name : hs.keys()) {
            var h = hs.table(name);
            var base = handlers.getOrDefault(name, new RuntimeHandler(name, Optional.empty()));
            handlers.put(name, new RuntimeHandler(h.string("path", base.path()), h.optionalPath("root")));
            h.finish();
        }
        hs.finish();
        if (!handlers.containsKey(defaultHandler)) {
            throw rt.error("default_handler", "no handler \"" + defaultHandler + "\" in [runtime.handlers]");
        }
        rt.finish();

        var cni = top.table("cni");
        Path confDir = cni.path("conf_dir", d.cniConfDir());
        List<Path> binDirs = cni.pathList("bin_dirs", d.cniBinDirs());
        cni.finish();

        var img = top.table("image");
        var di = d.images();
        var images = new DaemonConfig.Images(
                img.path("registry_config_dir", di.registryConfigDir()),
                img.positiveInt("max_concurrent_downloads", di.maxConcurrentDownloads()),
                img.duration("no_progress_timeout", di.noProgressTimeout()),
                img.positiveLong("max_layer_size", di.maxLayerSize()),
                img.positiveLong("max_image_size", di.maxImageSize()));
        img.finish();

        var st = top.table("stream");
        var ds = d.stream();
        String address = st.string("address", ds.address());
        if (address.isBlank()) {
            throw st.error("address", "must not be empty");
        }
        int port = st.intInRange("port", ds.port(), 0, 65535);
        Duration idle = st.duration("idle_timeout", ds.idleTimeout());
        if (idle.isZero()) {
            throw st.error("idle_timeout", "must be positive");
        }
        Optional<Path> cert = st.optionalPath("tls_cert");
        Optional<Path> key = st.optionalPath("tls_key");
        if (cert.isPresent() != key.isPresent()) {
            throw st.error(cert.isPresent() ? "tls_key" : "tls_cert", "tls_cert and tls_key must be set together");
        }
        var stream = new DaemonConfig.Stream(address, port, idle, cert, key);
        st.finish();

        var lim = top.table("limits");
        var limits = new DaemonConfig.Limits(
                lim.intInRange(
                        "exec_sync_output",
                        d.limits().execSyncOutput(),
                        DaemonConfig.Limits.MIN_EXEC_SYNC_OUTPUT,
                        DaemonConfig.Limits.MAX_EXEC_SYNC_OUTPUT),
                lim.intInRange(
                        "container_events_buffer",
                        d.limits().containerEventsBuffer(),
                        1,
                        DaemonConfig.Limits.MAX_CONTAINER_EVENTS_BUFFER));
        lim.finish();
        top.finish();

        return new DaemonConfig(
                socket,
                socketGroup,
                root,
                runRoot,
                level,
                logFile,
                shutdown,
                driver,
                defaultHandler,
                handlers,
                criuPath,
                confDir,
                binDirs,
                images,
                stream,
                limits);
    }

    /**
     * One TOML table being read. Every getter consumes its key; {@link #finish} then reports the
     * first key nobody asked for, so a typo never silently falls back to a default.
     */
    private static final class Table {
        private final String source;
        private final String prefix;
        private final ObjectNode node;

        Table(String source, String prefix, ObjectNode node) {
            this.source = source;
            this.prefix = prefix;
            this.node = node.deepCopy();
        }

        List<String> keys() {
            List<String> keys = new ArrayList<>();
            node.fieldNames().forEachRemaining(keys::add);
            return keys;
        }

        Table table(String key) throws ConfigException {
            JsonNode v = node.remove(key);
            if (v == null) {
                return new Table(source, prefix + key + ".", new TomlMapper().createObjectNode());
            }
            if (!(v instanceof ObjectNode o)) {
                throw error(key, "must be a table");
            }
            return new Table(source, prefix + key + ".", o);
        }

        String string(String key, String dflt) throws ConfigException {
            JsonNode v = node.remove(key);
            if (v == null) {
                return dflt;
            }
            if (!v.isTextual()) {
                throw error(key, "must be a string (got " + v + ")");
            }
            return v.asText();
        }

        Path path(String key, Path dflt) throws ConfigException {
            return optionalPath(key).orElse(dflt);
        }

        /** An absolute path, or empty when absent or {@code ""}. */
        Optional<Path> optionalPath(String key) throws ConfigException {
            String s = string(key, "");
            if (s.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(absolute(key, s));
        }

        List<Path> pathList(String key, List<Path> dflt) throws ConfigException {
            JsonNode v = node.remove(key);
            if (v == null) {
                return dflt;
            }
            if (!v.isArray()) {
                throw error(key, "must be an array of paths");
            }
            List<Path> out = new ArrayList<>();
            for (JsonNode e : v) {
                if (!e.isTextual()) {
                    throw error(key, "must be an array of paths (got " + e + ")");
                }
                out.add(absolute(key, e.asText()));
            }
            return out;
        }

        int positiveInt(String key, int dflt) throws ConfigException {
            JsonNode v = node.remove(key);
            if (v == null) {
                return dflt;
            }
            if (!v.isIntegralNumber() || v.asLong() < 1 || v.asLong() > Integer.MAX_VALUE) {
                throw error(key, "must be a whole number of at least 1 (got " + v + ")");
            }
            return v.asInt();
        }

        long positiveLong(String key, long dflt) throws ConfigException {
            JsonNode v = node.remove(key);
            if (v == null) {
                return dflt;
            }
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 1) {
                throw error(key, "must be a whole number of at least 1 (got " + v + ")");
            }
            return v.asLong();
        }

        int intInRange(String key, int dflt, int min, int max) throws ConfigException {
            JsonNode v = node.remove(key);
            if (v == null) {
                return dflt;
            }
            if (!v.isIntegralNumber() || v.asLong() < min || v.asLong() > max) {
                throw error(key, "must be a whole number from " + min + " to " + max + " (got " + v + ")");
            }
            return v.asInt();
        }

        Duration duration(String key, Duration dflt) throws ConfigException {
            String s = string(key, null);
            if (s == null) {
                return dflt;
            }
            try {
                Duration d = parseDuration(s);
                if (d.isNegative()) {
                    throw error(key, "must not be negative (got \"" + s + "\")");
                }
                return d;
            } catch (DateTimeParseException | NumberFormatException e) {
                throw error(key, "must be a duration such as \"500ms\", \"10s\" or \"2m\" (got \"" + s + "\")");
            }
        }

        <E extends Enum<E>> E enumValue(String key, Class<E> type, E dflt) throws ConfigException {
            String s = string(key, null);
            if (s == null) {
                return dflt;
            }
            try {
                return Enum.valueOf(type, s.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                List<String> names = new ArrayList<>();
                for (E c : type.getEnumConstants()) {
                    names.add(c.name().toLowerCase(Locale.ROOT));
                }
                throw error(key, "must be one of " + String.join(", ", names) + " (got \"" + s + "\")");
            }
        }

        void finish() throws ConfigException {
            Iterator<String> left = node.fieldNames();
            if (left.hasNext()) {
                throw error(left.next(), "unknown key");
            }
        }

        ConfigException error(String key, String what) {
            return new ConfigException(source + ": " + prefix + key + ": " + what);
        }

        private Path absolute(String key, String s) throws ConfigException {
            Path p = Path.of(s);
            if (!p.isAbsolute()) {
                throw error(key, "must be an absolute path (got \"" + s + "\")");
            }
            return p.normalize();
        }
    }

    /** Go-style durations, as containerd's and CRI-O's configs use: 500ms, 10s, 2m, 1h. */
    static Duration parseDuration(String s) {
        Function<String, Long> num = Long::parseLong;
        String t = s.trim();
        if (t.endsWith("ms")) {
            return Duration.ofMillis(num.apply(t.substring(0, t.length() - 2)));
        }
        if (t.endsWith("s")) {
            return Duration.ofSeconds(num.apply(t.substring(0, t.length() - 1)));
        }
        if (t.endsWith("m")) {
            return Duration.ofMinutes(num.apply(t.substring(0, t.length() - 1)));
        }
        if (t.endsWith("h")) {
            return Duration.ofHours(num.apply(t.substring(0, t.length() - 1)));
        }
        throw new NumberFormatException("no unit in " + s);
    }
}

package io.stevedore.server.image.registry;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import io.stevedore.server.image.registry.RegistryEndpoint.ClientCertificate;
import io.stevedore.server.image.registry.RegistryHosts.HostsFile;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** Reads one certs.d host directory; see {@link RegistryHosts} for the format. */
final class HostsFileParser {
    private static final TomlMapper TOML = new TomlMapper();
    private static final Set<String> HOST_KEYS =
            Set.of("capabilities", "ca", "client", "skip_verify", "override_path", "header", "dial_timeout");
    /** What java.net.http refuses to let a caller set. */
    private static final Set<String> RESTRICTED_HEADERS =
            Set.of("connection", "content-length", "expect", "host", "upgrade");

    private static final Pattern GO_DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)");

    private HostsFileParser() {}

    /** The settings shared by a {@code [host."…"]} table and the top level (for {@code server}). */
    record Settings(
            Set<Capability> capabilities,
            Optional<Boolean> skipVerify,
            List<Path> caFiles,
            List<ClientCertificate> clientCerts,
            Map<String, List<String>> headers,
            Optional<Duration> dialTimeout,
            boolean overridePath) {
        static final Settings NONE = new Settings(
                RegistryHosts.allCapabilities(),
                Optional.empty(),
                List.of(),
                List.of(),
                Map.of(),
                Optional.empty(),
                false);

        /** @param implicitSkipVerify what skip_verify means when the file does not say */
        RegistryEndpoint endpoint(URI base, boolean implicitSkipVerify) {
            return new RegistryEndpoint(
                    base,
                    capabilities,
                    skipVerify.orElse(implicitSkipVerify),
                    caFiles,
                    clientCerts,
                    headers,
                    dialTimeout);
        }
    }

    static HostsFile load(Path dir) throws RegistryConfigException {
        Path file = dir.resolve("hosts.toml");
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            return dockerStyle(dir);
        } catch (IOException e) {
            throw new RegistryConfigException(file + ": cannot read: " + e.getMessage(), e);
        }
        JsonNode tree;
        try {
            tree = TOML.readTree(text);
        } catch (JacksonException e) {
            throw new RegistryConfigException(file + ": not valid TOML: " + e.getOriginalMessage(), e);
        }
        return parse(file, tree == null ? TOML.createObjectNode() : (ObjectNode) tree);
    }

    static HostsFile parse(Path file, ObjectNode top) throws RegistryConfigException {
        Path dir = file.getParent();
        List<RegistryEndpoint> mirrors = new ArrayList<>();
        JsonNode hosts = top.get("host");
        if (hosts != null) {
            if (!hosts.isObject()) {
                throw error(file, "host", "must be a table of [host.\"<url>\"] tables");
            }
            // Jackson keeps TOML tables in file order, which is the order mirrors are tried in.
            for (var e : hosts.properties()) {
                String key = "host.\"" + e.getKey() + "\"";
                if (!e.getValue().isObject()) {
                    throw error(file, key, "must be a table");
                }
                for (var k : e.getValue().properties()) {
                    if (!HOST_KEYS.contains(k.getKey())) {
                        throw error(file, key + "." + k.getKey(), "unknown key");
                    }
                }
                Settings s = settings(file, dir, key + ".", e.getValue());
                mirrors.add(s.endpoint(url(file, key, e.getKey(), s.overridePath()), false));
            }
        }
        for (var k : top.properties()) {
            if (!k.getKey().equals("server") && !k.getKey().equals("host") && !HOST_KEYS.contains(k.getKey())) {
                throw error(file, k.getKey(), "unknown key");
            }
        }
        Settings root = settings(file, dir, "", top);
        Optional<RegistryEndpoint> server = Optional.empty();
        JsonNode s = top.get("server");
        if (s != null) {
            if (!s.isTextual() || s.asText().isBlank()) {
                throw error(file, "server", "must be a non-empty string URL");
            }
            server = Optional.of(root.endpoint(url(file, "server", s.asText(), root.overridePath()), false));
        }
        return new HostsFile(mirrors, server, root);
    }

    private static Settings settings(Path file, Path dir, String prefix, JsonNode n) throws RegistryConfigException {
        Set<Capability> caps = RegistryHosts.allCapabilities();
        JsonNode c = n.get("capabilities");
        if (c != null) {
            caps = EnumSet.noneOf(Capability.class);
            for (String v : stringList(file, prefix + "capabilities", c, false)) {
                try {
                    caps.add(Capability.valueOf(v.toUpperCase(Locale.ROOT)));
                } catch (IllegalArgumentException e) {
                    throw error(
                            file,
                            prefix + "capabilities",
                            "unknown capability \"" + v + "\" (want pull, resolve, push or referrers)");
                }
            }
        }
        Optional<Boolean> skip = Optional.empty();
        JsonNode sv = n.get("skip_verify");
        if (sv != null) {
            if (!sv.isBoolean()) {
                throw error(file, prefix + "skip_verify", "must be true or false (got " + sv + ")");
            }
            skip = Optional.of(sv.asBoolean());
        }
        boolean override = false;
        JsonNode op = n.get("override_path");
        if (op != null) {
            if (!op.isBoolean()) {
                throw error(file, prefix + "override_path", "must be true or false (got " + op + ")");
            }
            override = op.asBoolean();
        }
        List<Path> cas = new ArrayList<>();
        JsonNode ca = n.get("ca");
        if (ca != null) {
            for (String p : stringList(file, prefix + "ca", ca, true)) {
                cas.add(existing(file, prefix + "ca", dir, p));
            }
        }
        List<ClientCertificate> clients = new ArrayList<>();
        JsonNode cl = n.get("client");
        if (cl != null) {
            clients = clients(file, dir, prefix + "client", cl);
        }
        Map<String, List<String>> headers = new LinkedHashMap<>();
        JsonNode h = n.get("header");
        if (h != null) {
            if (!h.isObject()) {
                throw error(file, prefix + "header", "must be a table of header names to values");
            }
            for (var e : h.properties()) {
                if (RESTRICTED_HEADERS.contains(e.getKey().toLowerCase(Locale.ROOT))) {
                    throw error(file, prefix + "header." + e.getKey(), "this header is set by the HTTP client");
                }
                headers.put(e.getKey(), stringList(file, prefix + "header." + e.getKey(), e.getValue(), true));
            }
        }
        Optional<Duration> dial = Optional.empty();
        JsonNode dt = n.get("dial_timeout");
        if (dt != null) {
            dial = Optional.of(duration(file, prefix + "dial_timeout", dt));
        }
        return new Settings(caps, skip, cas, clients, headers, dial, override);
    }

    private static List<ClientCertificate> clients(Path file, Path dir, String key, JsonNode n)
            throws RegistryConfigException {
        List<ClientCertificate> out = new ArrayList<>();
        if (n.isTextual()) {
            out.add(new ClientCertificate(existing(file, key, dir, n.asText()), Optional.empty()));
            return out;
        }
        if (!n.isArray()) {
            throw error(file, key, "must be a path, a list of paths or a list of [cert, key] pairs");
        }
        for (JsonNode e : n) {
            if (e.isTextual()) {
                out.add(new ClientCertificate(existing(file, key, dir, e.asText()), Optional.empty()));
            } else if (e.isArray()
                    && e.size() == 2
                    && e.get(0).isTextual()
                    && e.get(1).isTextual()) {
                out.add(new ClientCertificate(
                        existing(file, key, dir, e.get(0).asText()),
                        Optional.of(existing(file, key, dir, e.get(1).asText()))));
            } else {
                throw error(file, key, "invalid entry " + e + ": want a path or a [cert, key] pair");
            }
        }
        return out;
    }

    private static URI url(Path file, String key, String text, boolean overridePath) throws RegistryConfigException {
        String s = text.startsWith("http") ? text : "https://" + text;
        URI u;
        try {
            u = new URI(s);
        } catch (URISyntaxException e) {
            throw error(file, key, "invalid URL \"" + text + "\": " + e.getReason());
        }
        if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme())) {
            throw error(file, key, "invalid URL \"" + text + "\": scheme must be http or https");
        }
        if (u.getRawAuthority() == null || u.getRawAuthority().isEmpty()) {
            throw error(file, key, "invalid URL \"" + text + "\": no host");
        }
        String path = u.getRawPath() == null ? "" : u.getRawPath().replaceAll("/+", "/");
        path = path.replaceAll("/$", "");
        if (!overridePath && !path.endsWith("/v2")) {
            path = path + "/v2";
        }
        return URI.create(u.getScheme() + "://" + u.getRawAuthority() + path);
    }

    private static List<String> stringList(Path file, String key, JsonNode n, boolean allowSingle)
            throws RegistryConfigException {
        if (allowSingle && n.isTextual()) {
            return List.of(n.asText());
        }
        if (!n.isArray()) {
            throw error(file, key, "must be " + (allowSingle ? "a string or " : "") + "a list of strings");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode e : n) {
            if (!e.isTextual()) {
                throw error(file, key, "must be a list of strings (got " + e + ")");
            }
            out.add(e.asText());
        }
        return out;
    }

    private static Path existing(Path file, String key, Path dir, String p) throws RegistryConfigException {
        Path path = dir.resolve(p); // absolute paths stay as they are
        if (!Files.isRegularFile(path)) {
            throw error(file, key, "no such file " + path);
        }
        return path;
    }

    /** A Go duration ({@code 1m30s}, {@code 500ms}), the syntax containerd accepts. */
    private static Duration duration(Path file, String key, JsonNode n) throws RegistryConfigException {
        String s = n.isTextual() ? n.asText() : "";
        Matcher m = GO_DURATION.matcher(s);
        Duration total = Duration.ZERO;
        int at = 0;
        while (m.find() && m.start() == at) {
            double v = Double.parseDouble(m.group(1));
            double nanos = switch (m.group(2)) {
                case "ns" -> 1;
                case "us", "µs" -> 1e3;
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                default -> 3600e9;
            };
            total = total.plusNanos((long) (v * nanos));
            at = m.end();
        }
        if (s.isEmpty() || at != s.length()) {
            throw error(file, key, "invalid duration " + n + " (want e.g. \"5s\" or \"1m30s\")");
        }
        return total;
    }

    /** Docker's certs.d layout: {@code *.crt} files are CAs, {@code x.cert} + {@code x.key} clients. */
    private static HostsFile dockerStyle(Path dir) throws RegistryConfigException {
        List<Path> cas = new ArrayList<>();
        List<ClientCertificate> clients = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.sorted().toList()) {
                String name = p.getFileName().toString();
                if (name.endsWith(".crt")) {
                    cas.add(p);
                } else if (name.endsWith(".cert")) {
                    Path key = dir.resolve(name.substring(0, name.length() - 5) + ".key");
                    if (!Files.isRegularFile(key)) {
                        throw new RegistryConfigException(p + ": client certificate without " + key);
                    }
                    clients.add(new ClientCertificate(p, Optional.of(key)));
                }
            }
        } catch (IOException e) {
            throw new RegistryConfigException(dir + ": cannot list: " + e.getMessage(), e);
        }
        var root = new Settings(
                RegistryHosts.allCapabilities(), Optional.empty(), cas, clients, Map.of(), Optional.empty(), false);
        return new HostsFile(List.of(), Optional.empty(), root);
    }

    private static RegistryConfigException error(Path file, String key, String what) {
        return new RegistryConfigException(file + ": " + key + ": " + what);
    }
}

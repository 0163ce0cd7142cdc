package io.stevedore.server.image.registry;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Where to pull each registry host from: containerd's {@code certs.d} directory (see <a
 * href="https://github.com/containerd/containerd/blob/main/docs/hosts.md">hosts.md</a>), read once
 * and strictly.
 *
 * <pre>
 * /etc/stevedore/certs.d/
 *   docker.io/hosts.toml           mirrors for docker.io
 *   127.0.0.1_5000_/hosts.toml     "host:port" is spelled host_port_ (containerd); "host:port" also works
 *   _default/hosts.toml            for hosts without a directory of their own
 * </pre>
 *
 * <pre>{@code
 * server = "https://registry-1.docker.io"     # optional; default upstream otherwise
 *
 * [host."https://mirror.example.com"]         # tried first, in file order
 *   capabilities = ["pull", "resolve"]
 *   ca = "/etc/certs/mirror-ca.pem"           # or a list; relative to the host directory
 *   client = [["client.crt", "client.key"]]   # PKCS#8 keys
 *   skip_verify = false
 *   override_path = false
 *   dial_timeout = "5s"
 *   [host."https://mirror.example.com".header]
 *     x-custom = "1"
 * }</pre>
 *
 * <p>Every file is validated at {@link #load}: an unknown key or a bad value fails with the file
 * and the dotted key, as the daemon config does (containerd would skip a bad file silently). A
 * directory without {@code hosts.toml} is read Docker-style: its {@code *.crt} files are CAs for
 * the default upstream. Immutable and thread-safe.
 */
public final class RegistryHosts {
    /** Where the daemon looks unless configured otherwise. */
    public static final Path DEFAULT_DIR = Path.of("/etc/stevedore/certs.d");

    static final String DEFAULT_HOST_DIR = "_default";

    private final Map<String, HostsFile> dirs;

    private RegistryHosts(Map<String, HostsFile> dirs) {
        this.dirs = Map.copyOf(dirs);
    }

    /** No configuration: every host gets its default upstream. */
    public static RegistryHosts defaults() {
        return new RegistryHosts(Map.of());
    }

    /**
     * Reads every host directory under {@code dir}. A missing {@code dir} means no configuration.
     *
     * @throws RegistryConfigException naming the file and key of the first invalid setting
     */
    public static RegistryHosts load(Path dir) throws RegistryConfigException {
        Map<String, HostsFile> dirs = new LinkedHashMap<>();
        List<Path> hostDirs;
        try (Stream<Path> s = Files.list(dir)) {
            hostDirs = s.filter(Files::isDirectory).sorted().toList();
        } catch (NoSuchFileException e) {
            return defaults();
        } catch (IOException e) {
            throw new RegistryConfigException(dir + ": cannot list: " + e.getMessage(), e);
        }
        for (Path d : hostDirs) {
            dirs.put(d.getFileName().toString(), HostsFileParser.load(d));
        }
        return new RegistryHosts(dirs);
    }

    /**
     * The endpoints to try for {@code registryHost} ({@code docker.io}, {@code 127.0.0.1:5000}), in
     * order: the configured mirrors, then the {@code server} or the default upstream ({@code
     * https://registry-1.docker.io} for docker.io, {@code https://<host>} otherwise). With no
     * {@code server}, a loopback host on a port other than 443 is tried over https (certificate not
     * verified) and then plain http, as containerd does for localhost. An URL listed twice (a
     * {@code server} that also has a {@code [host]} table) appears once, with its first settings.
     */
    public List<RegistryEndpoint> hostsFor(String registryHost) {
        HostsFile file = null;
        for (String name : dirNames(registryHost)) {
            file = dirs.get(name);
            if (file != null) {
                break;
            }
        }
        if (file == null) {
            file = HostsFile.EMPTY;
        }
        List<RegistryEndpoint> candidates = new ArrayList<>(file.mirrors());
        if (file.server().isPresent()) {
            candidates.add(file.server().get());
        } else {
            candidates.addAll(defaultUpstream(registryHost, file.root()));
        }
        // A server also listed as a [host] table (the lab's files do this) is tried once, with the
        // table's settings: asking a dead registry twice only doubles the wait and the error.
        Map<URI, RegistryEndpoint> unique = new LinkedHashMap<>();
        candidates.forEach(e -> unique.putIfAbsent(e.base(), e));
        return List.copyOf(unique.values());
    }

    /** containerd's lookup order: {@code host_port_}, {@code host:port}, {@code _default}. */
    static List<String> dirNames(String host) {
        int colon = host.lastIndexOf(':');
        if (colon > 0 && !host.endsWith("]")) {
            return List.of(host.substring(0, colon) + "_" + host.substring(colon + 1) + "_", host, DEFAULT_HOST_DIR);
        }
        return List.of(host, DEFAULT_HOST_DIR);
    }

    private static List<RegistryEndpoint> defaultUpstream(String host, HostsFileParser.Settings root) {
        if (host.equals("docker.io")) {
            return List.of(root.endpoint(URI.create("https://registry-1.docker.io/v2"), false));
        }
        if (!isLoopback(host)) {
            return List.of(root.endpoint(URI.create("https://" + host + "/v2"), false));
        }
        String port = port(host);
        if (port.equals("80")) {
            return List.of(root.endpoint(URI.create("http://" + host + "/v2"), false));
        }
        RegistryEndpoint https = root.endpoint(URI.create("https://" + host + "/v2"), true);
        if (port.isEmpty() || port.equals("443")) {
            return List.of(https);
        }
        return List.of(https, root.endpoint(URI.create("http://" + host + "/v2"), false));
    }

    private static String port(String host) {
        int colon = host.lastIndexOf(':');
        return colon > 0 && !host.endsWith("]") ? host.substring(colon + 1) : "";
    }

    /** {@code localhost} or a loopback address, with or without a port. */
    static boolean isLoopback(String host) {
        String h = host;
        if (h.startsWith("[")) {
            h = h.substring(1, h.indexOf(']'));
        } else if (!port(h).isEmpty()) {
            h = h.substring(0, h.lastIndexOf(':'));
        }
        if (h.equals("localhost")) {
            return true;
        }
        if (!h.matches("[0-9.]+|[0-9a-fA-F:]+")) {
            return false; // a name: never resolve DNS here
        }
        try {
            return InetAddress.getByName(h).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** One parsed host directory. */
    record HostsFile(List<RegistryEndpoint> mirrors, Optional<RegistryEndpoint> server, HostsFileParser.Settings root) {
        static final HostsFile EMPTY = new HostsFile(List.of(), Optional.empty(), HostsFileParser.Settings.NONE);

        HostsFile {
            mirrors = List.copyOf(mirrors);
        }
    }

    static EnumSet<Capability> allCapabilities() {
        return EnumSet.allOf(Capability.class);
    }
}

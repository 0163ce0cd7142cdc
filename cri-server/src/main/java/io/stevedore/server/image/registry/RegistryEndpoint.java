package io.stevedore.server.image.registry;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One place to talk to for a registry host: a mirror from {@code hosts.toml}, its {@code server},
 * or the default upstream.
 *
 * @param base the API root, {@code scheme://host[:port]/v2} (or the configured path with {@code
 *     override_path})
 * @param capabilities what it may be used for
 * @param skipVerify trust any certificate and host name (only for this endpoint)
 * @param caFiles PEM files with extra CA certificates, trusted on top of the system's
 * @param clientCerts client certificate / key pairs for mutual TLS
 * @param headers extra headers sent on every request to this endpoint
 * @param dialTimeout the connect timeout, if configured
 */
public record RegistryEndpoint(
        URI base,
        Set<Capability> capabilities,
        boolean skipVerify,
        List<Path> caFiles,
        List<ClientCertificate> clientCerts,
        Map<String, List<String>> headers,
        Optional<Duration> dialTimeout) {
    public RegistryEndpoint {
        Objects.requireNonNull(base, "base");
        if (!"http".equals(base.getScheme()) && !"https".equals(base.getScheme())) {
            throw new IllegalArgumentException("registry endpoint " + base + ": scheme must be http or https");
        }
        if (base.getRawAuthority() == null) {
            throw new IllegalArgumentException("registry endpoint " + base + ": no host");
        }
        capabilities = Set.copyOf(capabilities);
        caFiles = List.copyOf(caFiles);
        clientCerts = List.copyOf(clientCerts);
        headers = Map.copyOf(headers);
        Objects.requireNonNull(dialTimeout, "dialTimeout");
    }

    /** An endpoint with every capability and no TLS or header settings, e.g. for tests. */
    public static RegistryEndpoint of(String url) {
        return new RegistryEndpoint(
                URI.create(url.replaceAll("/+$", "") + "/v2"),
                Set.of(Capability.values()),
                false,
                List.of(),
                List.of(),
                Map.of(),
                Optional.empty());
    }

    /**
     * A client certificate for mutual TLS.
     *
     * @param cert PEM certificate chain (and the key too, when {@code key} is empty)
     * @param key PEM PKCS#8 private key
     */
    public record ClientCertificate(Path cert, Optional<Path> key) {
        public ClientCertificate {
            Objects.requireNonNull(cert, "cert");
            Objects.requireNonNull(key, "key");
        }
    }

    /** {@code host[:port]} as in the URL. */
    public String host() {
        return base.getRawAuthority();
    }

    /** {@code scheme://host[:port]}, how error messages name the endpoint. */
    public String origin() {
        return base.getScheme() + "://" + base.getRawAuthority();
    }

    public boolean has(Capability c) {
        return capabilities.contains(c);
    }

    /** {@code <base>/<relative>}. */
    public URI resolve(String relative) {
        String b = base.toString();
        return URI.create((b.endsWith("/") ? b : b + "/") + relative);
    }

    @Override
    public String toString() {
        return base.toString();
    }
}

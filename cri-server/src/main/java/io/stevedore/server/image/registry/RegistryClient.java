package io.stevedore.server.image.registry;

import io.stevedore.server.image.manifest.Descriptor;
import io.stevedore.server.image.manifest.ManifestException;
import io.stevedore.server.image.manifest.Manifests;
import io.stevedore.server.image.manifest.MediaTypes;
import io.stevedore.server.image.ref.Digest;
import io.stevedore.server.image.ref.ImageReference;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Talks to OCI distribution registries: resolves references, fetches manifests and streams blobs,
 * over the endpoints {@link RegistryHosts} lists for the reference's host (mirrors first). An
 * endpoint that cannot be reached, answers 5xx or 429, or lacks the content (404) is skipped for
 * the next; another error stops there. Authentication follows the registry's challenges (see
 * {@link Authorizer}); redirects (blob storage) are followed here so that the Authorization
 * header is never sent to another host.
 *
 * <p>Thread-safe; one instance serves the whole daemon. Close it to release connections.
 *
 * {@snippet :
 * var client = new RegistryClient(RegistryHosts.load(RegistryHosts.DEFAULT_DIR), RegistryClient.Options.defaults());
 * Resolved top = client.resolve(ImageReference.parse("busybox"), Credentials.anonymous());
 * try (InputStream layer = client.fetchBlob(top, someLayer, Credentials.anonymous())) {
 *   // stream into the content store, verifying the digest
 * }
 * }
 */
public final class RegistryClient implements AutoCloseable {
    private static final int MAX_REDIRECTS = 10;
    private static final int MAX_ERROR_BODY = 64 * 1024;
    private static final String USER_AGENT = "stevedore/0.1";

    /**
     * @param connectTimeout TCP (and TLS) connect timeout, unless hosts.toml sets {@code dial_timeout}
     * @param responseTimeout how long to wait for response headers
     * @param noProgressTimeout how long a body read may make no progress before it fails
     */
    public record Options(Duration connectTimeout, Duration responseTimeout, Duration noProgressTimeout) {
        public Options {
            Objects.requireNonNull(connectTimeout, "connectTimeout");
            Objects.requireNonNull(responseTimeout, "responseTimeout");
            Objects.requireNonNull(noProgressTimeout, "noProgressTimeout");
        }

        /** 30 s to connect, 60 s for headers, 5 min without body progress. */
        public static Options defaults() {
            return new Options(Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofMinutes(5));
        }
    }

    private final RegistryHosts hosts;
    private final Options options;
    private final HttpClients clients;
    private final Authorizer auth;
    /**
     * Hosts listed over https and then http (loopback defaults) whose https failed and http worked:
     * later requests go straight to http, like containerd's {@code HTTPFallback}.
     */
    private final Set<String> plainHttpHosts = ConcurrentHashMap.newKeySet();

    public RegistryClient(RegistryHosts hosts, Options options) {
        this(hosts, options, InstantSource.system());
    }

    /** {@link Options#defaults()} with {@code noProgressTimeout} for bodies. */
    public RegistryClient(RegistryHosts hosts, Duration noProgressTimeout) {
        this(
                hosts,
                new Options(
                        Options.defaults().connectTimeout(), Options.defaults().responseTimeout(), noProgressTimeout));
    }

    RegistryClient(RegistryHosts hosts, Options options, InstantSource clock) {
        this.hosts = Objects.requireNonNull(hosts, "hosts");
        this.options = Objects.requireNonNull(options, "options");
        this.clients = new HttpClients(options.connectTimeout());
        this.auth = new Authorizer(clock, options.responseTimeout());
    }

    /**
     * Fetches the manifest or index {@code ref} names from the first endpoint with the {@code
     * resolve} capability that has it.
     *
     * @throws RegistryException when no endpoint could serve it, the body is over {@link
     *     Manifests#MAX_SIZE}, is not a supported manifest type, or does not match the reference's
     *     digest or the registry's {@code Docker-Content-Digest}
     */
    public Resolved resolve(ImageReference ref, Credentials creds) throws RegistryException, InterruptedException {
        String action = "resolve " + ref;
        return eachEndpoint(action, ref, Capability.RESOLVE, ep -> {
            URI uri = ep.resolve(ref.path() + "/manifests/" + ref.manifestReference());
            try (var r = new Exchange(ep, ref, uri, accept(null), creds)) {
                byte[] body = r.readLimited(Manifests.MAX_SIZE, "manifest");
                Digest want = ref.digest().orElse(null);
                Digest got = Digest.compute(want == null ? "sha256" : want.algorithm(), body);
                if (want != null && !want.equals(got)) {
                    throw new Failure(
                            "digest mismatch: the reference names " + want + " but the content is " + got, 0, true);
                }
                checkHeaderDigest(r.response, got);
                String type;
                try {
                    type = Manifests.parse(
                                    r.response
                                            .headers()
                                            .firstValue("Content-Type")
                                            .orElse(""),
                                    body)
                            .mediaType();
                } catch (ManifestException e) {
                    throw new Failure(e.getMessage(), 0, false);
                }
                return new Resolved(ref, ep, Descriptor.of(type, got, body.length), body);
            }
        });
    }

    /**
     * Fetches a manifest by digest from the repository {@code from} was resolved in, e.g. the
     * platform's entry of an index; checks size (at most {@link Manifests#MAX_SIZE}) and digest.
     */
    public byte[] fetchManifest(Resolved from, Descriptor desc, Credentials creds)
            throws RegistryException, InterruptedException {
        ImageReference ref = from.reference();
        String action = "fetch manifest " + desc.digest() + " of " + ref.repository();
        if (desc.size() > Manifests.MAX_SIZE) {
            throw new RegistryException(
                    action + ": manifest is " + desc.size() + " bytes, more than the " + Manifests.MAX_SIZE
                            + " byte limit",
                    0,
                    false,
                    null);
        }
        return eachEndpoint(action, ref, Capability.PULL, ep -> {
            URI uri = ep.resolve(ref.path() + "/manifests/" + desc.digest());
            try (var r = new Exchange(ep, ref, uri, accept(desc.mediaType()), creds)) {
                byte[] body = r.readLimited(Manifests.MAX_SIZE, "manifest");
                if (body.length != desc.size()) {
                    throw new Failure("size mismatch: want " + desc.size() + " bytes, got " + body.length, 0, true);
                }
                if (!desc.digest().matches(body)) {
                    throw new Failure(
                            "digest mismatch: content is "
                                    + Digest.compute(desc.digest().algorithm(), body),
                            0,
                            true);
                }
                return body;
            }
        });
    }

    /** {@link #fetchBlob(ImageReference, Descriptor, Credentials)} in the repository of {@code from}. */
    public InputStream fetchBlob(Resolved from, Descriptor desc, Credentials creds)
            throws RegistryException, InterruptedException {
        return fetchBlob(from.reference(), desc, creds);
    }

    /**
     * Opens a blob of {@code ref}'s repository for streaming from the first endpoint with the {@code
     * pull} capability that has it. A {@code Content-Length} that differs from {@code desc.size()}
     * is refused; verifying the digest while reading is the caller's job. A read that makes no
     * progress for {@link Options#noProgressTimeout()} fails with an {@link IOException}. The caller
     * must close the stream.
     */
    public InputStream fetchBlob(ImageReference ref, Descriptor desc, Credentials creds)
            throws RegistryException, InterruptedException {
        String action = "fetch blob " + desc.digest();
        return eachEndpoint(action, ref, Capability.PULL, ep -> {
            URI uri = ep.resolve(ref.path() + "/blobs/" + desc.digest());
            var r = new Exchange(ep, ref, uri, null, creds);
            OptionalLong length = r.response.headers().firstValueAsLong("Content-Length");
            if (length.isPresent() && length.getAsLong() != desc.size()) {
                r.close();
                throw new Failure(
                        "Content-Length " + length.getAsLong() + " but the descriptor says " + desc.size(), 0, true);
            }
            return r.body;
        });
    }

    @Override
    public void close() {
        clients.close();
    }

    // ---------------------------------------------------------------------------------------------

    /** Why one endpoint failed; {@code fallback} says whether the next endpoint may do better. */
    private static final class Failure extends Exception {
        final int status;
        final boolean fallback;

        Failure(String message, int status, boolean fallback) {
            super(message);
            this.status = status;
            this.fallback = fallback;
        }
    }

    @FunctionalInterface
    private interface EndpointCall<T> {
        T call(RegistryEndpoint ep) throws Failure, InterruptedException;
    }

    private <T> T eachEndpoint(String action, ImageReference ref, Capability need, EndpointCall<T> call)
            throws RegistryException, InterruptedException {
        List<RegistryEndpoint> all =
                hosts.hostsFor(ref.domain()).stream().filter(e -> e.has(need)).toList();
        List<RegistryEndpoint> eps = all.stream()
                .filter(e -> !(isHttps(e) && plainHttpHosts.contains(e.host()) && hasHttpTwin(all, e)))
                .toList();
        if (eps.isEmpty()) {
            throw new RegistryException(
                    action + ": no endpoint for " + ref.domain() + " has the "
                            + need.name().toLowerCase(java.util.Locale.ROOT) + " capability",
                    0,
                    false,
                    null);
        }
        List<String> failures = new ArrayList<>();
        boolean allNotFound = true;
        int status = 0;
        Failure last = null;
        Set<String> httpsUnreachable = new HashSet<>();
        for (RegistryEndpoint ep : eps) {
            try {
                T result = call.call(ep);
                if (!isHttps(ep) && httpsUnreachable.contains(ep.host())) {
                    plainHttpHosts.add(ep.host());
                }
                return result;
            } catch (Failure f) {
                if (isHttps(ep) && f.status == 0) {
                    httpsUnreachable.add(ep.host());
                }
                failures.add(ep.origin() + ": " + f.getMessage());
                allNotFound &= f.status == 404;
                status = f.status;
                last = f;
                if (!f.fallback) {
                    break;
                }
            }
        }
        String msg = failures.size() == 1 && eps.size() == 1
                ? action + " from " + failures.getFirst()
                : action + ": " + String.join("; ", failures);
        throw new RegistryException(msg, status, allNotFound, last);
    }

    private static boolean isHttps(RegistryEndpoint e) {
        return e.base().getScheme().equals("https");
    }

    private static boolean hasHttpTwin(List<RegistryEndpoint> eps, RegistryEndpoint https) {
        return eps.stream().anyMatch(e -> !isHttps(e) && e.host().equals(https.host()));
    }

    /** One request to an endpoint, with authentication and redirects; 2xx or a {@link Failure}. */
    private final class Exchange implements AutoCloseable {
        final HttpResponse<InputStream> response;
        final InputStream body;

        Exchange(RegistryEndpoint ep, ImageReference ref, URI uri, String accept, Credentials creds)
                throws Failure, InterruptedException {
            HttpClient client;
            try {
                client = clients.forEndpoint(ep);
            } catch (GeneralSecurityException | IOException e) {
                throw new Failure("TLS configuration: " + RegistryErrors.describe(e), 0, true);
            }
            String scope = "repository:" + ref.path() + ":pull";
            try {
                Optional<String> authz = auth.header(client, ep.host(), scope, creds);
                HttpResponse<InputStream> r = send(client, ep, uri, accept, authz);
                if (r.statusCode() == 401) {
                    List<String> challenge = r.headers().allValues("WWW-Authenticate");
                    byte[] refusal = drain(r);
                    Optional<String> retry = auth.unauthorized(client, ep.host(), scope, challenge, creds, authz);
                    if (retry.isEmpty()) {
                        throw new Failure("401 " + RegistryErrors.detail(refusal), 401, false);
                    }
                    r = send(client, ep, uri, accept, retry);
                }
                if (r.statusCode() / 100 != 2) {
                    int s = r.statusCode();
                    throw new Failure(s + " " + RegistryErrors.detail(drain(r)), s, s == 404 || s == 429 || s >= 500);
                }
                response = r;
                body = new NoProgressInputStream(r.body(), options.noProgressTimeout(), uri.toString());
            } catch (Authorizer.AuthException e) {
                throw new Failure(e.getMessage(), e.status, e.status == 0 || e.status >= 500);
            } catch (IOException e) {
                throw new Failure(RegistryErrors.describe(e), 0, true);
            }
        }

        byte[] readLimited(int max, String what) throws Failure {
            OptionalLong length = response.headers().firstValueAsLong("Content-Length");
            if (length.isPresent() && length.getAsLong() > max) {
                throw new Failure(
                        what + " is " + length.getAsLong() + " bytes, more than the " + max + " byte limit", 0, false);
            }
            try {
                byte[] b = body.readNBytes(max + 1);
                if (b.length > max) {
                    throw new Failure(what + " is more than the " + max + " byte limit", 0, false);
                }
                return b;
            } catch (IOException e) {
                throw new Failure("reading " + what + ": " + RegistryErrors.describe(e), 0, true);
            }
        }

        @Override
        public void close() {
            try {
                body.close();
            } catch (IOException e) {
                // nothing left to read from it
            }
        }
    }

    /**
     * Sends a GET, following redirects itself: after the first hop to another host (blob storage)
     * neither the Authorization header nor the endpoint's configured headers go along.
     */
    private HttpResponse<InputStream> send(
            HttpClient client, RegistryEndpoint ep, URI uri, String accept, Optional<String> authz)
            throws IOException, InterruptedException {
        URI current = uri;
        boolean sameHost = true;
        for (int hop = 0; ; hop++) {
            var b = HttpRequest.newBuilder(current)
                    .timeout(options.responseTimeout())
                    .GET();
            b.header("User-Agent", USER_AGENT);
            if (accept != null) {
                b.header("Accept", accept);
            }
            if (sameHost) {
                ep.headers().forEach((k, vs) -> vs.forEach(v -> b.header(k, v)));
                authz.ifPresent(a -> b.header("Authorization", a));
            }
            HttpResponse<InputStream> r = client.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            int s = r.statusCode();
            Optional<String> location = r.headers().firstValue("Location");
            if ((s == 301 || s == 302 || s == 303 || s == 307 || s == 308) && location.isPresent()) {
                drain(r);
                if (hop >= MAX_REDIRECTS) {
                    throw new IOException("more than " + MAX_REDIRECTS + " redirects");
                }
                URI next = current.resolve(location.get());
                sameHost &= sameOrigin(current, next);
                current = next;
                continue;
            }
            return r;
        }
    }

    private static boolean sameOrigin(URI a, URI b) {
        return Objects.equals(a.getScheme(), b.getScheme()) && Objects.equals(a.getRawAuthority(), b.getRawAuthority());
    }

    private static void checkHeaderDigest(HttpResponse<?> r, Digest got) throws Failure {
        Optional<String> header = r.headers().firstValue("Docker-Content-Digest");
        if (header.isEmpty()) {
            return;
        }
        Digest claimed;
        try {
            claimed = Digest.of(header.get().trim());
        } catch (IllegalArgumentException e) {
            return; // an unusable header is ignored; our own digest of the body is what counts
        }
        if (claimed.algorithm().equals(got.algorithm()) && !claimed.equals(got)) {
            throw new Failure(
                    "digest mismatch: Docker-Content-Digest says " + claimed + " but the content is " + got, 0, true);
        }
    }

    private static String accept(String first) {
        Set<String> types = new LinkedHashSet<>();
        if (first != null) {
            types.add(first);
        }
        types.addAll(MediaTypes.MANIFEST_TYPES);
        return String.join(", ", types);
    }

    private static byte[] drain(HttpResponse<InputStream> r) {
        try (InputStream in = r.body()) {
            return in.readNBytes(MAX_ERROR_BODY);
        } catch (IOException e) {
            return new byte[0];
        }
    }
}

package io.stevedore.server.image.registry;

import io.stevedore.server.image.ref.ImageReference;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.GeneralSecurityException;
import java.time.InstantSource;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * One GET to one registry endpoint: the endpoint's TLS client, authentication by the registry's
 * challenges ({@link Authorizer}), and redirects followed here so that the Authorization header is
 * never sent to another host. Anything but a 2xx becomes an {@link EndpointFailure}.
 *
 * <p>Thread-safe; close it to release connections.
 */
final class RegistryTransport implements AutoCloseable {
    private static final int MAX_REDIRECTS = 10;
    private static final int MAX_ERROR_BODY = 64 * 1024;
    private static final String USER_AGENT = "stevedore/0.1";

    private final RegistryClient.Options options;
    private final HttpClients clients;
    private final Authorizer auth;

    RegistryTransport(RegistryClient.Options options, InstantSource clock) {
        this.options = Objects.requireNonNull(options, "options");
        this.clients = new HttpClients(options.connectTimeout());
        this.auth = new Authorizer(clock, options.responseTimeout());
    }

    /** A 2xx response whose body fails a read that makes no progress for the no-progress timeout. */
    static final class Exchange implements AutoCloseable {
        final HttpResponse<InputStream> response;
        final InputStream body;

        private Exchange(HttpResponse<InputStream> response, InputStream body) {
            this.response = response;
            this.body = body;
        }

        byte[] readLimited(int max, String what) throws EndpointFailure {
            OptionalLong length = response.headers().firstValueAsLong("Content-Length");
            if (length.isPresent() && length.getAsLong() > max) {
                throw new EndpointFailure(
                        what + " is " + length.getAsLong() + " bytes, more than the " + max + " byte limit", 0, false);
            }
            try {
                byte[] b = body.readNBytes(max + 1);
                if (b.length > max) {
                    throw new EndpointFailure(what + " is more than the " + max + " byte limit", 0, false);
                }
                return b;
            } catch (IOException e) {
                throw new EndpointFailure("reading " + what + ": " + RegistryErrors.describe(e), 0, true);
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
     * GETs {@code uri} of {@code ep} with pull access to {@code ref}'s repository, answering one 401
     * challenge; {@code accept} may be null.
     */
    Exchange get(RegistryEndpoint ep, ImageReference ref, URI uri, String accept, Credentials creds)
            throws EndpointFailure, InterruptedException {
        HttpClient client;
        try {
            client = clients.forEndpoint(ep);
        } catch (GeneralSecurityException | IOException e) {
            throw new EndpointFailure("TLS configuration: " + RegistryErrors.describe(e), 0, true);
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
                    throw new EndpointFailure("401 " + RegistryErrors.detail(refusal), 401, false);
                }
                r = send(client, ep, uri, accept, retry);
            }
            if (r.statusCode() / 100 != 2) {
                int s = r.statusCode();
                throw new EndpointFailure(
                        s + " " + RegistryErrors.detail(drain(r)), s, s == 404 || s == 429 || s >= 500);
            }
            return new Exchange(r, new NoProgressInputStream(r.body(), options.noProgressTimeout(), uri.toString()));
        } catch (Authorizer.AuthException e) {
            throw new EndpointFailure(e.getMessage(), e.status, e.status == 0 || e.status >= 500);
        } catch (IOException e) {
            throw new EndpointFailure(RegistryErrors.describe(e), 0, true);
        }
    }

    @Override
    public void close() {
        clients.close();
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

    private static byte[] drain(HttpResponse<InputStream> r) {
        try (InputStream in = r.body()) {
            return in.readNBytes(MAX_ERROR_BODY);
        } catch (IOException e) {
            return new byte[0];
        }
    }
}

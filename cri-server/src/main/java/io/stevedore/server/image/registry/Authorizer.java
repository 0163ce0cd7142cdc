package io.stevedore.server.image.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.stream.Collectors;

/**
 * The distribution auth dance, as containerd's {@code docker.Authorizer}: a host's first request
 * goes out anonymously; its 401 challenge is remembered per host, and later requests are
 * authorised up front. Bearer tokens come from the challenge's realm (GET with basic credentials,
 * or an OAuth2 refresh-token POST when an identity token is given) and are cached per host, scope
 * and credentials until they expire. Thread-safe.
 */
final class Authorizer {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The distribution token spec: a token without expires_in lasts 60 s. */
    private static final Duration DEFAULT_TOKEN_LIFETIME = Duration.ofSeconds(60);

    private static final Duration EXPIRY_MARGIN = Duration.ofSeconds(5);
    static final String CLIENT_ID = "stevedore";

    private record TokenKey(String host, String realm, String service, String scope, Credentials creds) {}

    private record Token(String value, Instant expires) {}

    private final InstantSource clock;
    private final Duration requestTimeout;
    private final ConcurrentMap<String, List<Challenge>> challenges = new ConcurrentHashMap<>();
    private final ConcurrentMap<TokenKey, Token> tokens = new ConcurrentHashMap<>();

    Authorizer(InstantSource clock, Duration requestTimeout) {
        this.clock = clock;
        this.requestTimeout = requestTimeout;
    }

    /** An authorization failed; {@code status} is the HTTP status behind it (0 if none). */
    static final class AuthException extends Exception {
        final int status;

        AuthException(String message, int status, Throwable cause) {
            super(message, cause);
            this.status = status;
        }
    }

    /** The Authorization header for a request to {@code host}, or empty to go anonymously. */
    Optional<String> header(HttpClient client, String host, String scope, Credentials creds)
            throws AuthException, InterruptedException {
        List<Challenge> known = challenges.get(host);
        return known == null ? Optional.empty() : answer(client, host, scope, known, creds);
    }

    /**
     * Learns from a 401 and returns the header to retry with; empty when retrying is pointless
     * (the same header was just refused, or there is nothing we can answer with).
     */
    Optional<String> unauthorized(
            HttpClient client,
            String host,
            String scope,
            List<String> wwwAuthenticate,
            Credentials creds,
            Optional<String> refused)
            throws AuthException, InterruptedException {
        List<Challenge> parsed = Challenge.parse(wwwAuthenticate);
        if (parsed.isEmpty()) {
            throw new AuthException("401 without a usable WWW-Authenticate challenge", 401, null);
        }
        challenges.put(host, parsed);
        if (refused.isPresent()) {
            // The token may have expired early or lack a scope: forget it and ask again, once.
            tokens.keySet().removeIf(k -> k.host().equals(host) && k.scope().contains(scope));
        }
        Optional<String> h = answer(client, host, scope, parsed, creds);
        return h.equals(refused) && !isBearerFetched(parsed, creds) ? Optional.empty() : h;
    }

    private static boolean isBearerFetched(List<Challenge> cs, Credentials creds) {
        return cs.stream().anyMatch(c -> c.scheme().equals("bearer"))
                && creds.registryToken().isEmpty();
    }

    private Optional<String> answer(HttpClient client, String host, String scope, List<Challenge> cs, Credentials creds)
            throws AuthException, InterruptedException {
        for (Challenge c : cs) {
            if (c.scheme().equals("bearer")) {
                return Optional.of("Bearer " + bearer(client, host, scope, c, creds));
            }
        }
        for (Challenge c : cs) {
            if (c.scheme().equals("basic")) {
                Optional<String[]> up = userPassword(creds);
                if (up.isEmpty()) {
                    throw new AuthException("authentication required (Basic) and no credentials given", 401, null);
                }
                return Optional.of(basic(up.get()));
            }
        }
        throw new AuthException(
                "unsupported authentication scheme(s): "
                        + cs.stream().map(Challenge::scheme).collect(Collectors.joining(", ")),
                401,
                null);
    }

    private String bearer(HttpClient client, String host, String scope, Challenge c, Credentials creds)
            throws AuthException, InterruptedException {
        if (!creds.registryToken().isEmpty()) {
            return creds.registryToken();
        }
        String realm = c.param("realm");
        if (realm.isEmpty()) {
            throw new AuthException("bearer challenge without a realm", 401, null);
        }
        Set<String> scopes = new LinkedHashSet<>();
        for (String s : c.param("scope").split(" ")) {
            if (!s.isBlank()) {
                scopes.add(s);
            }
        }
        scopes.add(scope);
        String scopeText = String.join(" ", scopes);
        var key = new TokenKey(host, realm, c.param("service"), scopeText, creds);
        Token t = tokens.get(key);
        Instant now = clock.instant();
        if (t != null && now.isBefore(t.expires())) {
            return t.value();
        }
        t = creds.identityToken().isEmpty()
                ? fetchWithGet(client, realm, c.param("service"), scopes, creds, now)
                : fetchWithRefreshToken(client, realm, c.param("service"), scopes, creds, now);
        tokens.put(key, t);
        return t.value();
    }

    private Token fetchWithGet(
            HttpClient client, String realm, String service, Set<String> scopes, Credentials creds, Instant now)
            throws AuthException, InterruptedException {
        List<String> q = new ArrayList<>();
        if (!service.isEmpty()) {
            q.add("service=" + enc(service));
        }
        scopes.forEach(s -> q.add("scope=" + enc(s)));
        Optional<String[]> up = userPassword(creds);
        if (up.isPresent()) {
            q.add("offline_token=true");
            q.add("client_id=" + CLIENT_ID);
        }
        URI uri = withQuery(realm, String.join("&", q));
        var b = HttpRequest.newBuilder(uri).timeout(requestTimeout).GET();
        up.ifPresent(p -> b.header("Authorization", basic(p)));
        return token(client, b.build(), realm, now);
    }

    /** An identity token is an OAuth2 refresh token: exchange it at the realm (RFC 6749 §6). */
    private Token fetchWithRefreshToken(
            HttpClient client, String realm, String service, Set<String> scopes, Credentials creds, Instant now)
            throws AuthException, InterruptedException {
        String form = Map.of(
                        "grant_type",
                        "refresh_token",
                        "refresh_token",
                        creds.identityToken(),
                        "service",
                        service,
                        "client_id",
                        CLIENT_ID,
                        "scope",
                        String.join(" ", scopes))
                .entrySet()
                .stream()
                .map(e -> e.getKey() + "=" + enc(e.getValue()))
                .sorted()
                .collect(Collectors.joining("&"));
        var req = HttpRequest.newBuilder(URI.create(realm))
                .timeout(requestTimeout)
                .header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
                .POST(HttpRequest.BodyPublishers.ofString(form))
                .build();
        return token(client, req, realm, now);
    }

    private Token token(HttpClient client, HttpRequest req, String realm, Instant now)
            throws AuthException, InterruptedException {
        String where = "fetch token from " + originOf(realm);
        HttpResponse<InputStream> r;
        try {
            r = client.send(req, HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw new AuthException(where + ": " + RegistryErrors.describe(e), 0, e);
        }
        byte[] body;
        try (InputStream in = r.body()) {
            body = in.readNBytes(1 << 20);
        } catch (IOException e) {
            throw new AuthException(where + ": " + RegistryErrors.describe(e), r.statusCode(), e);
        }
        if (r.statusCode() != 200) {
            throw new AuthException(
                    where + ": " + r.statusCode() + " " + RegistryErrors.detail(body), r.statusCode(), null);
        }
        JsonNode n;
        try {
            n = JSON.readTree(body);
        } catch (IOException e) {
            throw new AuthException(where + ": response is not JSON", 200, e);
        }
        String value = n.path("token").asText("");
        if (value.isEmpty()) {
            value = n.path("access_token").asText("");
        }
        if (value.isEmpty()) {
            throw new AuthException(where + ": response has neither token nor access_token", 200, null);
        }
        Instant issued = now;
        String issuedAt = n.path("issued_at").asText("");
        if (!issuedAt.isEmpty()) {
            try {
                issued = OffsetDateTime.parse(issuedAt).toInstant();
            } catch (RuntimeException e) {
                // keep "now": a bad issued_at only shortens how long we trust the token
            }
        }
        long seconds = n.path("expires_in").asLong(0);
        Duration life = seconds >= 60 ? Duration.ofSeconds(seconds) : DEFAULT_TOKEN_LIFETIME;
        return new Token(value, issued.plus(life).minus(EXPIRY_MARGIN));
    }

    private static Optional<String[]> userPassword(Credentials creds) throws AuthException {
        try {
            return creds.userPassword();
        } catch (IllegalArgumentException e) {
            throw new AuthException("invalid credentials: " + e.getMessage(), 0, null);
        }
    }

    private static String basic(String[] up) {
        return "Basic " + Base64.getEncoder().encodeToString((up[0] + ":" + up[1]).getBytes(StandardCharsets.UTF_8));
    }

    private static URI withQuery(String realm, String query) throws AuthException {
        try {
            return URI.create(realm + (query.isEmpty() ? "" : (realm.contains("?") ? "&" : "?") + query));
        } catch (IllegalArgumentException e) {
            throw new AuthException("invalid token realm " + realm, 0, e);
        }
    }

    private static String originOf(String realm) {
        try {
            URI u = URI.create(realm);
            return u.getScheme() + "://" + u.getRawAuthority() + u.getRawPath();
        } catch (IllegalArgumentException e) {
            return realm;
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}

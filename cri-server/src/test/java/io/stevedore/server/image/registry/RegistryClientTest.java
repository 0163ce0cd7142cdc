package io.stevedore.server.image.registry;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.server.image.manifest.Descriptor;
import io.stevedore.server.image.manifest.ImageIndex;
import io.stevedore.server.image.manifest.Manifests;
import io.stevedore.server.image.manifest.MediaTypes;
import io.stevedore.server.image.ref.Digest;
import io.stevedore.server.image.ref.ImageReference;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryClientTest {
    static final String HOST = "registry.test";
    static final String REPO = "team/app";
    static final ImageReference REF = ImageReference.parse(HOST + "/" + REPO + ":v1");

    @TempDir
    Path certsD;

    FakeRegistry registry;
    RegistryClient client;
    final List<AutoCloseable> closeLater = new ArrayList<>();
    final CountDownLatch release = new CountDownLatch(1);
    byte[] manifest;
    Digest manifestDigest;
    byte[] layer = "layer bytes".repeat(1000).getBytes(StandardCharsets.UTF_8);
    Descriptor layerDesc;

    @BeforeEach
    void start() throws Exception {
        registry = new FakeRegistry();
        layerDesc = Descriptor.of(MediaTypes.OCI_LAYER_GZIP, registry.putBlob(REPO, layer), layer.length);
        manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST
                        + "\",\"config\":{\"mediaType\":\"" + MediaTypes.OCI_CONFIG + "\",\"digest\":\""
                        + layerDesc.digest() + "\",\"size\":1},\"layers\":[]}")
                .getBytes(StandardCharsets.UTF_8);
        manifestDigest = registry.putManifest(REPO, "v1", MediaTypes.OCI_MANIFEST, manifest);
    }

    @AfterEach
    void stop() throws Exception {
        release.countDown();
        if (client != null) {
            client.close();
        }
        registry.close();
        for (AutoCloseable c : closeLater) {
            c.close();
        }
    }

    private RegistryClient client(String hostsToml, Duration noProgress) throws Exception {
        Files.createDirectories(certsD.resolve(HOST));
        Files.writeString(certsD.resolve(HOST).resolve("hosts.toml"), hostsToml);
        client = new RegistryClient(
                RegistryHosts.load(certsD),
                new RegistryClient.Options(Duration.ofSeconds(5), Duration.ofSeconds(10), noProgress));
        return client;
    }

    private RegistryClient client() throws Exception {
        return client("server = \"" + registry.origin() + "\"\n", Duration.ofSeconds(10));
    }

    private static Credentials userPass() {
        return Credentials.basic("alice", "s3cret");
    }

    private static String basicHeader() {
        return "Basic " + Base64.getEncoder().encodeToString("alice:s3cret".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void resolve_anonymous_returnsVerifiedManifest_andBlobStreams() throws Exception {
        Resolved r = client().resolve(REF, Credentials.anonymous());
        assertEquals(manifestDigest, r.descriptor().digest());
        assertEquals(MediaTypes.OCI_MANIFEST, r.descriptor().mediaType());
        assertEquals(manifest.length, r.descriptor().size());
        assertArrayEquals(manifest, r.body());
        assertEquals(registry.origin() + "/v2", r.endpoint().base().toString());
        try (InputStream in = client.fetchBlob(r, layerDesc, Credentials.anonymous())) {
            assertArrayEquals(layer, in.readAllBytes());
        }
        assertTrue(registry.requests.getFirst().uri().equals("/v2/team/app/manifests/v1"));
        assertNull(registry.requests.getFirst().authorization());
    }

    @Test
    void resolve_byDigest_andFetchManifestFromIndex() throws Exception {
        String index = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX
                + "\",\"manifests\":[{\"mediaType\":\""
                + MediaTypes.OCI_MANIFEST + "\",\"digest\":\"" + manifestDigest + "\",\"size\":" + manifest.length
                + ",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";
        Digest indexDigest =
                registry.putManifest(REPO, null, MediaTypes.OCI_INDEX, index.getBytes(StandardCharsets.UTF_8));
        Resolved r = client().resolve(REF.withDigest(indexDigest), Credentials.anonymous());
        assertEquals(MediaTypes.OCI_INDEX, r.descriptor().mediaType());
        var chosen = ((ImageIndex) Manifests.parse(r.descriptor().mediaType(), r.body())).select();
        assertArrayEquals(manifest, client.fetchManifest(r, chosen, Credentials.anonymous()));
    }

    @Test
    void resolve_digestMismatch_refused() throws Exception {
        Digest other = Digest.sha256("something else".getBytes(StandardCharsets.UTF_8));
        registry.manifests.put(REPO + ":" + other, manifest); // served under the wrong digest
        registry.manifestTypes.put(REPO + ":" + other, MediaTypes.OCI_MANIFEST);
        var e = assertThrows(
                RegistryException.class, () -> client().resolve(REF.withDigest(other), Credentials.anonymous()));
        assertTrue(e.getMessage().contains("digest mismatch"), e.getMessage());
        assertFalse(e.isNotFound());
    }

    @Test
    void fetchManifest_wrongContent_refused() throws Exception {
        Resolved r = client().resolve(REF, Credentials.anonymous());
        var lie = Descriptor.of(MediaTypes.OCI_MANIFEST, Digest.sha256(new byte[] {1}), manifest.length);
        registry.manifests.put(REPO + ":" + lie.digest(), manifest);
        registry.manifestTypes.put(REPO + ":" + lie.digest(), MediaTypes.OCI_MANIFEST);
        var e = assertThrows(RegistryException.class, () -> client.fetchManifest(r, lie, Credentials.anonymous()));
        assertTrue(e.getMessage().contains("digest mismatch"), e.getMessage());
    }

    @Test
    void fetchBlob_missing_isNotFound_withRegistryError() throws Exception {
        var missing = Descriptor.of(MediaTypes.OCI_LAYER, Digest.sha256(new byte[] {9}), 1);
        var e = assertThrows(RegistryException.class, () -> client().fetchBlob(REF, missing, Credentials.anonymous()));
        assertEquals(
                "fetch blob " + missing.digest() + " from " + registry.origin()
                        + ": 404 BLOB_UNKNOWN: blob unknown to registry",
                e.getMessage());
        assertTrue(e.isNotFound());
        assertEquals(404, e.status());
    }

    @Test
    void fetchBlob_contentLengthDiffersFromDescriptor_refused() throws Exception {
        var wrongSize = Descriptor.of(MediaTypes.OCI_LAYER, layerDesc.digest(), layer.length + 1);
        var e = assertThrows(
                RegistryException.class, () -> client().fetchBlob(REF, wrongSize, Credentials.anonymous()));
        assertTrue(e.getMessage().contains("Content-Length " + layer.length), e.getMessage());
    }

    @Test
    void resolve_schema1_refusedWithClearMessage() throws Exception {
        registry.putManifest(
                REPO,
                "old",
                MediaTypes.DOCKER_SCHEMA1_SIGNED,
                "{\"schemaVersion\":1}".getBytes(StandardCharsets.UTF_8));
        var e = assertThrows(
                RegistryException.class, () -> client().resolve(REF.withTag("old"), Credentials.anonymous()));
        assertTrue(e.getMessage().contains("schema 1 manifests are not supported"), e.getMessage());
    }

    /** Bearer: 401 with a challenge, token from the realm (scope asked for), retry; then cached. */
    @Test
    void resolve_bearer_fetchesTokenWithScope_andCachesIt() throws Exception {
        registry.interceptor = ex -> {
            try {
                String path = ex.getRequestURI().getPath();
                if (path.equals("/token")) {
                    assertEquals(basicHeader(), ex.getRequestHeaders().getFirst("Authorization"));
                    FakeRegistry.send(
                            ex, 200, "{\"token\":\"tok-1\",\"expires_in\":300}".getBytes(StandardCharsets.UTF_8));
                    return true;
                }
                if (!"Bearer tok-1".equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                    ex.getResponseHeaders()
                            .add(
                                    "WWW-Authenticate",
                                    "Bearer realm=\"" + registry.origin()
                                            + "/token\",service=\"registry.test\",scope=\"repository:team/app:pull\"");
                    FakeRegistry.error(ex, 401, "UNAUTHORIZED", "authentication required");
                    return true;
                }
                return false;
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        };
        client().resolve(REF, userPass());
        client.fetchBlob(REF, layerDesc, userPass()).close();
        List<String> uris =
                registry.requests.stream().map(FakeRegistry.Request::uri).toList();
        assertEquals(4, uris.size(), uris.toString()); // manifest 401, token, manifest, blob (token cached)
        String tokenQuery = URLDecoder.decode(uris.get(1), StandardCharsets.UTF_8);
        assertTrue(tokenQuery.startsWith("/token?service=registry.test&scope=repository:team/app:pull"), tokenQuery);
        assertEquals("Bearer tok-1", registry.requests.get(3).authorization());
    }

    @Test
    void resolve_basicAuth_retriesWithCredentials() throws Exception {
        registry.interceptor = ex -> challengeUnless(ex, basicHeader(), "Basic realm=\"fake\"");
        Resolved r = client().resolve(
                        REF,
                        new Credentials(
                                "",
                                "",
                                Base64.getEncoder().encodeToString("alice:s3cret".getBytes(StandardCharsets.UTF_8)),
                                "",
                                ""));
        assertEquals(manifestDigest, r.descriptor().digest());
        assertEquals(basicHeader(), registry.requests.getLast().authorization());
    }

    @Test
    void resolve_basicAuthWithoutCredentials_fails401() throws Exception {
        registry.interceptor = ex -> challengeUnless(ex, basicHeader(), "Basic realm=\"fake\"");
        var e = assertThrows(RegistryException.class, () -> client().resolve(REF, Credentials.anonymous()));
        assertEquals(401, e.status());
        assertTrue(e.getMessage().contains("no credentials"), e.getMessage());
    }

    @Test
    void resolve_registryToken_usedAsBearerWithoutTokenFetch() throws Exception {
        registry.interceptor = ex ->
                challengeUnless(ex, "Bearer reg-tok", "Bearer realm=\"" + registry.origin() + "/token\",service=\"x\"");
        client().resolve(REF, new Credentials("", "", "", "", "reg-tok"));
        assertTrue(registry.requests.stream().noneMatch(q -> q.uri().startsWith("/token")));
        assertEquals("Bearer reg-tok", registry.requests.getLast().authorization());
    }

    @Test
    void resolve_identityToken_refreshedWithOAuthPost() throws Exception {
        registry.interceptor = ex -> {
            try {
                if (ex.getRequestURI().getPath().equals("/oauth")) {
                    assertEquals("POST", ex.getRequestMethod());
                    FakeRegistry.send(
                            ex, 200, "{\"access_token\":\"acc\",\"expires_in\":60}".getBytes(StandardCharsets.UTF_8));
                    return true;
                }
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
            return challengeUnless(
                    ex, "Bearer acc", "Bearer realm=\"" + registry.origin() + "/oauth\",service=\"svc\"");
        };
        client().resolve(REF, new Credentials("", "", "", "refresh-me", ""));
        var post = registry.requests.stream()
                .filter(q -> q.method().equals("POST"))
                .findFirst()
                .orElseThrow();
        String form = URLDecoder.decode(post.body(), StandardCharsets.UTF_8);
        assertTrue(form.contains("grant_type=refresh_token"), form);
        assertTrue(form.contains("refresh_token=refresh-me"), form);
        assertTrue(form.contains("service=svc"), form);
        assertTrue(form.contains("scope=repository:team/app:pull"), form);
        assertEquals("Bearer acc", registry.requests.getLast().authorization());
    }

    @Test
    void resolve_deadMirror_thenServer_andErrorListsEach() throws Exception {
        int dead;
        try (var s = new ServerSocket(0)) {
            dead = s.getLocalPort();
        }
        String toml = "server = \"" + registry.origin() + "\"\n[host.\"http://127.0.0.1:" + dead + "\"]\n";
        Resolved r = client(toml, Duration.ofSeconds(10)).resolve(REF, Credentials.anonymous());
        assertEquals(registry.origin() + "/v2", r.endpoint().base().toString());

        var e = assertThrows(
                RegistryException.class, () -> client.resolve(REF.withTag("nope"), Credentials.anonymous()));
        assertTrue(
                e.getMessage().startsWith("resolve registry.test/team/app:nope: http://127.0.0.1:" + dead + ": "),
                e.getMessage());
        assertTrue(e.getMessage().contains("; " + registry.origin() + ": 404 MANIFEST_UNKNOWN"), e.getMessage());
        assertFalse(e.isNotFound(), "one endpoint never answered");
    }

    @Test
    void resolve_mirrorWithout404_fallsBackToServer_andCapabilitiesRespected() throws Exception {
        try (var mirror = new FakeRegistry()) {
            String toml = "server = \"" + registry.origin() + "\"\n[host.\"" + mirror.origin() + "\"]\n"
                    + "capabilities = [\"pull\"]\n";
            Resolved r = client(toml, Duration.ofSeconds(10)).resolve(REF, Credentials.anonymous());
            assertTrue(mirror.requests.isEmpty(), "a pull-only mirror is not asked to resolve");
            assertEquals(registry.origin() + "/v2", r.endpoint().base().toString());
            client.fetchBlob(r, layerDesc, Credentials.anonymous()).close();
            assertEquals(1, mirror.requests.size(), "blob asked from the mirror first");
            assertTrue(mirror.requests.getFirst().uri().startsWith("/v2/team/app/blobs/"));
        }
    }

    @Test
    void fetchBlob_redirectToOtherHost_dropsAuthorization() throws Exception {
        try (var storage = new FakeRegistry()) {
            storage.interceptor = ex -> {
                try {
                    FakeRegistry.send(ex, 200, layer);
                    return true;
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            };
            registry.interceptor = ex -> {
                if (challengeUnless(ex, basicHeader(), "Basic realm=\"r\"")) {
                    return true;
                }
                if (ex.getRequestURI().getPath().contains("/blobs/")) {
                    ex.getResponseHeaders().add("Location", storage.origin() + "/bucket/blob?sig=1");
                    try {
                        FakeRegistry.send(ex, 307, new byte[0]);
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                    return true;
                }
                return false;
            };
            try (InputStream in = client().fetchBlob(REF, layerDesc, userPass())) {
                assertArrayEquals(layer, in.readAllBytes());
            }
            assertEquals(basicHeader(), registry.requests.getLast().authorization());
            assertEquals("/bucket/blob?sig=1", storage.requests.getFirst().uri());
            assertNull(storage.requests.getFirst().authorization(), "credentials must not leak to storage");
        }
    }

    @Test
    void fetchBlob_stallMidBody_noProgressTimeoutFires() throws Exception {
        registry.interceptor = ex -> {
            if (!ex.getRequestURI().getPath().contains("/blobs/")) {
                return false;
            }
            try {
                ex.sendResponseHeaders(200, layer.length);
                OutputStream out = ex.getResponseBody();
                out.write(layer, 0, layer.length / 2);
                out.flush();
                release.await(); // stall until the test ends
            } catch (IOException | InterruptedException e) {
                // the client gave up
            }
            return true;
        };
        RegistryClient c = client("server = \"" + registry.origin() + "\"\n", Duration.ofMillis(300));
        var e = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            try (InputStream in = c.fetchBlob(REF, layerDesc, Credentials.anonymous())) {
                return assertThrows(IOException.class, in::readAllBytes);
            }
        });
        assertTrue(e.getMessage().contains("no data for 300 ms"), e.getMessage());
    }

    @Test
    void fetchBlob_slowButProgressing_isNotCut() throws Exception {
        CountDownLatch firstHalfRead = new CountDownLatch(1);
        registry.interceptor = ex -> {
            if (!ex.getRequestURI().getPath().contains("/blobs/")) {
                return false;
            }
            try {
                ex.sendResponseHeaders(200, layer.length);
                OutputStream out = ex.getResponseBody();
                out.write(layer, 0, layer.length / 2);
                out.flush();
                firstHalfRead.await();
                out.write(layer, layer.length / 2, layer.length - layer.length / 2);
                out.close();
            } catch (IOException | InterruptedException e) {
                throw new RuntimeException(e);
            }
            return true;
        };
        RegistryClient c = client("server = \"" + registry.origin() + "\"\n", Duration.ofSeconds(5));
        try (InputStream in = c.fetchBlob(REF, layerDesc, Credentials.anonymous())) {
            byte[] first = in.readNBytes(layer.length / 2);
            firstHalfRead.countDown();
            byte[] rest = in.readAllBytes();
            assertEquals(layer.length, first.length + rest.length);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> registry.requests.size() == 1);
    }

    @Test
    void resolve_loopbackWithoutConfig_fallsBackFromHttpsToHttp() throws Exception {
        client = new RegistryClient(
                RegistryHosts.defaults(),
                new RegistryClient.Options(Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(5)));
        // The fake server never answers a TLS hello, so the https try costs the response timeout once.
        var ref =
                ImageReference.parse("127.0.0.1:" + registry.server.getAddress().getPort() + "/" + REPO + ":v1");
        Resolved r =
                assertTimeoutPreemptively(Duration.ofSeconds(20), () -> client.resolve(ref, Credentials.anonymous()));
        assertEquals(registry.origin() + "/v2", r.endpoint().base().toString());
        int before = registry.requests.size();
        client.fetchBlob(r, layerDesc, Credentials.anonymous()).close();
        assertEquals(before + 1, registry.requests.size(), "http remembered: straight to it");
    }

    @Test
    void credentials_toString_redactsSecrets() {
        String s = new Credentials("bob", "pw1", "YTpi", "idtok", "regtok").toString();
        assertTrue(s.contains("bob"));
        for (String secret : List.of("pw1", "YTpi", "idtok", "regtok")) {
            assertFalse(s.contains(secret), s);
        }
    }

    @Test
    void challenge_parse_bearerAndBasic() {
        var cs = Challenge.parse(List.of(
                "Bearer realm=\"https://auth.example/token\",service=\"reg\",scope=\"repository:a/b:pull,push\"",
                "Basic realm=\"x\""));
        assertEquals(2, cs.size());
        assertEquals("bearer", cs.get(0).scheme());
        assertEquals("https://auth.example/token", cs.get(0).param("realm"));
        assertEquals("repository:a/b:pull,push", cs.get(0).param("scope"));
        assertEquals("basic", cs.get(1).scheme());
    }

    /** Answers 401 with {@code challenge} unless the request carries {@code authorization}. */
    private static boolean challengeUnless(
            com.sun.net.httpserver.HttpExchange ex, String authorization, String challenge) {
        if (authorization.equals(ex.getRequestHeaders().getFirst("Authorization"))) {
            return false;
        }
        try {
            ex.getResponseHeaders().add("WWW-Authenticate", challenge);
            FakeRegistry.error(ex, 401, "UNAUTHORIZED", "authentication required");
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
        return true;
    }
}

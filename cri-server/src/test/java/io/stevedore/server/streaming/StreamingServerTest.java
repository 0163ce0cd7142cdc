package io.stevedore.server.streaming;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.stevedore.cri.v1.AttachRequest;
import io.stevedore.cri.v1.ExecRequest;
import io.stevedore.cri.v1.PortForwardRequest;
import io.stevedore.server.DaemonConfig;
import io.stevedore.server.error.CriException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The streaming server over loopback with a fake runtime: tokens, upgrades and the WebSocket framing. */
class StreamingServerTest {
    private final HttpClient http = HttpClient.newHttpClient();
    private final List<String> gone = new CopyOnWriteArrayList<>();
    private StreamingServer server;

    /** Exec echoes stdin to stdout, says "err" on stderr and exits with the length of its first argument. */
    private final StreamRuntime fake = new StreamRuntime() {
        @Override
        public Owner checkExec(ExecRequest req) {
            if (req.getContainerId().equals("gone")) {
                throw new CriException.NotFound("container \"gone\" not found");
            }
            return new Owner(req.getContainerId(), "pod");
        }

        @Override
        public Owner checkAttach(AttachRequest req) {
            return new Owner(req.getContainerId(), "pod");
        }

        @Override
        public Owner checkPortForward(String pod) {
            return new Owner(pod, pod);
        }

        @Override
        public int exec(ExecRequest req, CommandIo io) throws Exception {
            io.gone().thenRun(() -> gone.add(req.getContainerId()));
            if (io.stderr() != null) {
                io.stderr().write("err".getBytes(StandardCharsets.UTF_8));
            }
            if (io.stdin() != null) {
                io.stdin().transferTo(io.stdout());
            }
            return req.getCmd(0).length();
        }

        @Override
        public void attach(AttachRequest req, CommandIo io) {}

        @Override
        public SocketChannel connect(String pod, int port) throws IOException {
            throw new IOException("connection refused");
        }
    };

    @BeforeEach
    void start() throws IOException {
        server = StreamingServer.start(
                new DaemonConfig.Stream("127.0.0.1", 0, Duration.ofHours(4), Optional.empty(), Optional.empty()), fake);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private ExecRequest.Builder exec(String cmd) {
        return ExecRequest.newBuilder().setContainerId("c1").addCmd(cmd).setStdout(true);
    }

    private int get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }

    /** A WebSocket client collecting each channel's bytes (the first byte of a message names it). */
    private final class Channels implements WebSocket.Listener {
        final Map<Integer, ByteArrayOutputStream> frames = new ConcurrentHashMap<>();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();

        WebSocket open(String url, String protocol) throws Exception {
            return http.newWebSocketBuilder()
                    .subprotocols(protocol)
                    .buildAsync(URI.create(url.replace("http://", "ws://")), this)
                    .get();
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket w, ByteBuffer data, boolean last) {
            int ch = data.get() & 0xff;
            byte[] b = new byte[data.remaining()];
            data.get(b);
            frames.computeIfAbsent(ch, k -> new ByteArrayOutputStream()).writeBytes(b);
            w.request(1);
            return null;
        }

        @Override
        public void onError(WebSocket w, Throwable error) {
            closed.complete(-1);
        }

        @Override
        public CompletionStage<?> onClose(WebSocket w, int code, String reason) {
            closed.complete(code);
            return null;
        }
    }

    @Test
    void exec_urlOnTheServer_withAnUnguessableToken() {
        String url = server.exec(exec("sh").build());
        assertTrue(url.matches(java.util.regex.Pattern.quote(server.baseUrl()) + "/exec/[A-Za-z0-9_-]{22}"), url);
    }

    @Test
    void exec_ttyWithStderr_orNoStreams_isInvalidArgument() {
        assertThrows(
                CriException.InvalidArgument.class,
                () -> server.exec(exec("sh").setTty(true).setStderr(true).build()));
        assertThrows(
                CriException.InvalidArgument.class,
                () -> server.exec(ExecRequest.newBuilder()
                        .setContainerId("c1")
                        .addCmd("sh")
                        .build()));
        assertThrows(
                CriException.InvalidArgument.class,
                () -> server.attach(
                        AttachRequest.newBuilder().setContainerId("c1").build()));
    }

    @Test
    void exec_unknownContainer_isNotFound_andNoTokenIsKept() {
        assertThrows(
                CriException.NotFound.class,
                () -> server.exec(exec("sh").setContainerId("gone").build()));
    }

    @Test
    void forgedToken_is404() throws Exception {
        assertEquals(404, get(server.baseUrl() + "/exec/AAAAAAAAAAAAAAAAAAAAAA"));
        assertEquals(404, get(server.baseUrl() + "/nothing"));
    }

    @Test
    void expiredToken_is404() throws Exception {
        var now = new java.util.concurrent.atomic.AtomicReference<>(java.time.Instant.parse("2026-12-03T12:00:00Z"));
        try (var s = StreamingServer.start(
                new DaemonConfig.Stream("127.0.0.1", 0, Duration.ofHours(4), Optional.empty(), Optional.empty()),
                fake,
                now::get)) {
            String url = s.exec(exec("sh").build());
            now.set(now.get().plus(StreamTokens.TTL));
            assertEquals(404, get(url), "a minute unused: gone");
        }
    }

    @Test
    void tokenOfAnotherKind_is404() throws Exception {
        String url = server.portForward(
                PortForwardRequest.newBuilder().setPodSandboxId("p").build());
        assertEquals(404, get(url.replace("/portforward/", "/exec/")));
    }

    @Test
    void tokenUsedTwice_is404_theFirstTimeAnUpgradeIsRequired() throws Exception {
        String url = server.exec(exec("sh").build());
        assertEquals(400, get(url), "no Upgrade header");
        assertEquals(404, get(url), "the token is spent");
    }

    @Test
    void webSocketV4_stdoutStderrApart_stdinEchoed_exitCodeAsStatus() throws Exception {
        String url = server.exec(exec("abc").setStdin(true).setStderr(true).build());
        var c = new Channels();
        WebSocket ws = c.open(url, "v4.channel.k8s.io");
        var frames = c.frames;
        assertEquals("v4.channel.k8s.io", ws.getSubprotocol());
        ws.sendBinary(ByteBuffer.wrap(new byte[] {0, 'h', 'i'}), true).get();
        // v4 has no half-close: the fake's stdin ends when the client closes.
        await().atMost(Duration.ofSeconds(10))
                .until(() -> frames.containsKey(1) && frames.get(1).size() == 2);
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get();
        await().atMost(Duration.ofSeconds(10)).until(() -> gone.contains("c1"));
        assertEquals("hi", frames.get(1).toString(StandardCharsets.UTF_8));
        assertEquals("err", frames.get(2).toString(StandardCharsets.UTF_8));
    }

    @Test
    void webSocketV5_closeSignalEndsStdin_thenStatusCarriesTheExitCode() throws Exception {
        String url = server.exec(exec("abc").setStdin(true).build());
        var c = new Channels();
        WebSocket ws = c.open(url, "v5.channel.k8s.io");
        var frames = c.frames;
        var closed = c.closed;
        ws.sendBinary(ByteBuffer.wrap(new byte[] {0, 'x', 'y', 'z'}), true).get();
        ws.sendBinary(ByteBuffer.wrap(new byte[] {(byte) 255, 0}), true).get(); // CLOSE stdin
        assertEquals(1000, closed.get(10, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals("xyz", frames.get(1).toString(StandardCharsets.UTF_8));
        Map<?, ?> status = new ObjectMapper().readValue(frames.get(3).toByteArray(), Map.class);
        assertEquals("Failure", status.get("status"));
        assertEquals("NonZeroExitCode", status.get("reason"));
        assertEquals(
                "3", ((Map<?, ?>) ((List<?>) ((Map<?, ?>) status.get("details")).get("causes")).get(0)).get("message"));
    }

    @Test
    void webSocketPortForward_unreachablePort_isReportedOnTheErrorChannel() throws Exception {
        String url = server.portForward(
                PortForwardRequest.newBuilder().setPodSandboxId("p").build());
        var c = new Channels();
        c.open(url + "?port=8080", "v4.channel.k8s.io");
        var frames = c.frames;
        await().atMost(Duration.ofSeconds(10))
                .until(() -> frames.containsKey(1) && frames.get(1).size() > 2);
        byte[] err = frames.get(1).toByteArray();
        assertEquals(8080, (err[0] & 0xff) | (err[1] & 0xff) << 8, "the port prefix");
        assertTrue(new String(err, 2, err.length - 2, StandardCharsets.UTF_8).contains("connection refused"));
        assertEquals(2, frames.get(0).size(), "the data channel got its port prefix");
    }

    @Test
    void tls_certAndKey_serveHttpsOnly(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        var cert = dir.resolve("tls.crt");
        var key = dir.resolve("tls.key");
        org.junit.jupiter.api.Assumptions.assumeTrue(
                new ProcessBuilder(
                                        "openssl",
                                        "req",
                                        "-x509",
                                        "-newkey",
                                        "ec",
                                        "-pkeyopt",
                                        "ec_paramgen_curve:prime256v1",
                                        "-nodes",
                                        "-days",
                                        "1",
                                        "-subj",
                                        "/CN=127.0.0.1",
                                        "-addext",
                                        "subjectAltName=IP:127.0.0.1",
                                        "-keyout",
                                        key.toString(),
                                        "-out",
                                        cert.toString())
                                .redirectErrorStream(true)
                                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                                .start()
                                .waitFor()
                        == 0,
                "openssl can make a test certificate");
        try (var tls = StreamingServer.start(
                new DaemonConfig.Stream("127.0.0.1", 0, Duration.ofHours(4), Optional.of(cert), Optional.of(key)),
                fake)) {
            String url = tls.exec(exec("sh").build());
            assertTrue(url.startsWith("https://127.0.0.1:"), url);
            var trustAll = new javax.net.ssl.X509TrustManager() {
                @Override
                public void checkClientTrusted(java.security.cert.X509Certificate[] c, String a) {}

                @Override
                public void checkServerTrusted(java.security.cert.X509Certificate[] c, String a) {}

                @Override
                public java.security.cert.X509Certificate[] getAcceptedIssuers() {
                    return new java.security.cert.X509Certificate[0];
                }
            };
            var ssl = javax.net.ssl.SSLContext.getInstance("TLS");
            ssl.init(null, new javax.net.ssl.TrustManager[] {trustAll}, null);
            var params = new javax.net.ssl.SSLParameters();
            params.setEndpointIdentificationAlgorithm(null);
            var https = HttpClient.newBuilder()
                    .sslContext(ssl)
                    .sslParameters(params)
                    .build();
            var res =
                    https.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding());
            assertEquals(400, res.statusCode(), "spoke HTTPS, and the token was taken (no upgrade asked)");
            assertThrows(
                    IOException.class,
                    () -> http.send(
                            HttpRequest.newBuilder(URI.create(url.replace("https://", "http://")))
                                    .build(),
                            HttpResponse.BodyHandlers.discarding()),
                    "no plain HTTP");
        }
    }

    @Test
    void endSessions_ofTheContainer_closesItsConnection() throws Exception {
        String url = server.exec(exec("abc").setStdin(true).build());
        var c = new Channels();
        c.open(url, "v4.channel.k8s.io");
        var closed = c.closed;
        await().atMost(Duration.ofSeconds(5)).until(() -> server.sessions() == 1);
        server.endSessions("c1");
        closed.get(10, java.util.concurrent.TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(5)).until(() -> server.sessions() == 0 && gone.contains("c1"));
    }
}

package io.stevedore.server.image.registry;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.stevedore.server.image.ref.Digest;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.function.Function;
import javax.net.ssl.SSLContext;

/**
 * An in-process distribution registry on 127.0.0.1: manifests by tag or digest, blobs by digest,
 * optional auth, and a log of every request. Handlers run on virtual threads. Public for the
 * image service's pull tests.
 */
public final class FakeRegistry implements AutoCloseable {
    public record Request(String method, String uri, String authorization, String body) {}

    /** Decides a response before the normal routes; null lets the request through. */
    public interface Interceptor extends Function<HttpExchange, Boolean> {}

    public final HttpServer server;
    public final List<Request> requests = new CopyOnWriteArrayList<>();
    public final Map<String, byte[]> manifests = new ConcurrentHashMap<>(); // tag or digest -> body
    public final Map<String, String> manifestTypes = new ConcurrentHashMap<>();
    public final Map<String, byte[]> blobs = new ConcurrentHashMap<>();
    public volatile Interceptor interceptor = ex -> false;

    public FakeRegistry() throws IOException {
        this(null);
    }

    /** Serves HTTPS with {@code tls} when it is not null. */
    FakeRegistry(SSLContext tls) throws IOException {
        var addr = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        if (tls == null) {
            server = HttpServer.create(addr, 0);
        } else {
            var https = HttpsServer.create(addr, 0);
            https.setHttpsConfigurator(new HttpsConfigurator(tls));
            server = https;
        }
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", this::handle);
        server.start();
    }

    public String origin() {
        return (server instanceof HttpsServer ? "https" : "http") + "://127.0.0.1:"
                + server.getAddress().getPort();
    }

    /** Stores a manifest under its digest and, if given, a tag; returns the digest. */
    public Digest putManifest(String repo, String tag, String mediaType, byte[] body) {
        Digest d = Digest.sha256(body);
        for (String ref : tag == null ? List.of(d.toString()) : List.of(d.toString(), tag)) {
            manifests.put(repo + ":" + ref, body);
            manifestTypes.put(repo + ":" + ref, mediaType);
        }
        return d;
    }

    public Digest putBlob(String repo, byte[] body) {
        Digest d = Digest.sha256(body);
        blobs.put(repo + ":" + d, body);
        return d;
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            requests.add(new Request(
                    ex.getRequestMethod(),
                    ex.getRequestURI().toString(),
                    ex.getRequestHeaders().getFirst("Authorization"),
                    body));
            if (interceptor.apply(ex)) {
                return;
            }
            String path = ex.getRequestURI().getPath();
            int m = path.indexOf("/manifests/");
            int b = path.indexOf("/blobs/");
            if (path.startsWith("/v2/") && m > 0) {
                String key = path.substring(4, m) + ":" + path.substring(m + 11);
                byte[] content = manifests.get(key);
                if (content == null) {
                    error(ex, 404, "MANIFEST_UNKNOWN", "manifest unknown");
                    return;
                }
                ex.getResponseHeaders().add("Content-Type", manifestTypes.get(key));
                ex.getResponseHeaders()
                        .add("Docker-Content-Digest", Digest.sha256(content).toString());
                send(ex, 200, content);
            } else if (path.startsWith("/v2/") && b > 0) {
                byte[] content = blobs.get(path.substring(4, b) + ":" + path.substring(b + 7));
                if (content == null) {
                    error(ex, 404, "BLOB_UNKNOWN", "blob unknown to registry");
                    return;
                }
                send(ex, 200, content);
            } else {
                error(ex, 404, "NOT_FOUND", "no route");
            }
        }
    }

    static void send(HttpExchange ex, int status, byte[] body) throws IOException {
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    static void error(HttpExchange ex, int status, String code, String message) throws IOException {
        ex.getResponseHeaders().add("Content-Type", "application/json");
        send(
                ex,
                status,
                ("{\"errors\":[{\"code\":\"" + code + "\",\"message\":\"" + message + "\"}]}")
                        .getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        server.stop(0);
    }
}

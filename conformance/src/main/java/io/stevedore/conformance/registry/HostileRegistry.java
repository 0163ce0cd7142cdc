package io.stevedore.conformance.registry;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;

/**
 * A registry that lies, for the pull tests no honest registry can serve: blobs that do not match
 * their digest, bodies cut short, a blob that stops mid-way and never continues, manifests of a
 * refused type or absurd size. Plain HTTP on a free loopback port. Each repository is one case,
 * set up with {@link #manifest} and {@link #blob}.
 */
public final class HostileRegistry implements AutoCloseable {
    private final HttpServer server;
    private final Map<String, Response> routes = new ConcurrentHashMap<>();
    private final CountDownLatch release = new CountDownLatch(1);

    /** What to answer at one path. */
    private record Response(String contentType, byte[] body, long declaredLength, Behaviour behaviour) {}

    /** How a body is sent. */
    public enum Behaviour {
        /** As is. */
        NORMAL,
        /** Half the body, then the connection is closed. */
        TRUNCATE,
        /** Half the body, then nothing until {@link #close}. */
        STALL
    }

    public HostileRegistry() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", this::handle);
        server.start();
    }

    /** For static initialisers: a registry, or an unchecked failure to start one. */
    public static HostileRegistry startOrFail() {
        try {
            return new HostileRegistry();
        } catch (IOException e) {
            throw new UncheckedIOException("start a hostile registry", e);
        }
    }

    public String host() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    /** Serves {@code body} as {@code repo}'s manifest for {@code ref} (tag or digest), with {@code type}. */
    public void manifest(String repo, String ref, String type, byte[] body) {
        routes.put("/v2/" + repo + "/manifests/" + ref, new Response(type, body, body.length, Behaviour.NORMAL));
    }

    /** Serves {@code body} as the blob {@code digest} of {@code repo}. */
    public void blob(String repo, String digest, byte[] body, Behaviour behaviour) {
        routes.put(
                "/v2/" + repo + "/blobs/" + digest,
                new Response("application/octet-stream", body, body.length, behaviour));
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            if (path.equals("/v2/")) {
                ex.sendResponseHeaders(200, -1);
                return;
            }
            Response r = routes.get(path);
            if (r == null) {
                byte[] err = "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"no such thing\"}]}"
                        .getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().set("Content-Type", "application/json");
                ex.sendResponseHeaders(404, err.length);
                ex.getResponseBody().write(err);
                return;
            }
            ex.getResponseHeaders().set("Content-Type", r.contentType());
            if (ex.getRequestMethod().equals("HEAD")) {
                ex.sendResponseHeaders(200, -1);
                return;
            }
            ex.sendResponseHeaders(200, r.declaredLength());
            OutputStream out = ex.getResponseBody();
            switch (r.behaviour()) {
                case NORMAL -> out.write(r.body());
                case TRUNCATE -> {
                    out.write(r.body(), 0, r.body().length / 2);
                    out.flush();
                }
                case STALL -> {
                    out.write(r.body(), 0, r.body().length / 2);
                    out.flush();
                    release.await();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // the client gave up (it should, on a stalled or short body)
        }
    }

    @Override
    public void close() {
        release.countDown();
        server.stop(0);
    }
}

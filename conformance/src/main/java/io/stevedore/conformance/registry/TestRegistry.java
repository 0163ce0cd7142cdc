package io.stevedore.conformance.registry;

import static org.awaitility.Awaitility.await;

import io.stevedore.conformance.LiveDaemon;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A real OCI distribution registry (Debian's {@code docker-registry}, CNCF distribution 2.8) on
 * a free port of 127.0.0.1, storing into a private directory. Plain HTTP on loopback, which the
 * daemon allows without configuration, as containerd does for localhost.
 */
public final class TestRegistry implements AutoCloseable {
    public static final Path BINARY = Path.of("/usr/bin/docker-registry");

    private final Path dir;
    private final Process process;
    private final int port;

    private TestRegistry(Path dir, Process process, int port) {
        this.dir = dir;
        this.process = process;
        this.port = port;
    }

    public static boolean available() {
        return Files.isExecutable(BINARY);
    }

    public static TestRegistry start() throws IOException {
        Path dir = Files.createTempDirectory("sd-registry-");
        int port;
        try (var s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path config = dir.resolve("config.yml");
        Files.writeString(config, """
        version: 0.1
        log:
          level: error
          accesslog:
            disabled: true
        storage:
          filesystem:
            rootdirectory: %s/storage
          delete:
            enabled: true
        http:
          addr: 127.0.0.1:%d
        """.formatted(dir, port));
        Process p = new ProcessBuilder(BINARY.toString(), "serve", config.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("registry.log").toFile())
                .start();
        var reg = new TestRegistry(dir, p, port);
        try {
            var http = HttpClient.newHttpClient();
            await("registry on 127.0.0.1:" + port)
                    .atMost(Duration.ofSeconds(20))
                    .pollInterval(Duration.ofMillis(20))
                    .ignoreExceptions()
                    .failFast("registry exited", () -> !p.isAlive())
                    .until(() -> http.send(
                                            HttpRequest.newBuilder(reg.uri("/v2/"))
                                                    .build(),
                                            HttpResponse.BodyHandlers.discarding())
                                    .statusCode()
                            == 200);
        } catch (RuntimeException | Error e) {
            reg.close();
            throw e;
        }
        return reg;
    }

    /** {@code 127.0.0.1:<port>}, the registry part of an image reference. */
    public String host() {
        return "127.0.0.1:" + port;
    }

    public URI uri(String path) {
        return URI.create("http://" + host() + path);
    }

    @Override
    public void close() throws IOException {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        LiveDaemon.deleteTree(dir);
    }
}

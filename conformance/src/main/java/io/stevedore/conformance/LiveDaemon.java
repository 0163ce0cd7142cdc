package io.stevedore.conformance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One live daemon for a whole test class, in a private directory under {@code /tmp} (short, so
 * the socket path fits {@code sun_path}). After the class it must stop on SIGTERM with exit code
 * 0 and leave its socket removed; the directory is then deleted.
 *
 * {@snippet :
 * @RegisterExtension
 * static final LiveDaemon daemon = LiveDaemon.withConfig(dir -> "[cni]\nconf_dir = \"" + dir + "/net.d\"\n");
 *
 * @Test
 * void version() {
 *   assertEquals("stevedore", daemon.client().runtime().version(VersionRequest.getDefaultInstance()).getRuntimeName());
 * }
 * }
 */
public final class LiveDaemon implements BeforeAllCallback, AfterAllCallback {
    private final Function<Path, String> config;
    private Path dir;
    private DaemonProcess process;
    private CriClient client;

    private LiveDaemon(Function<Path, String> config) {
        this.config = config;
    }

    /** A daemon whose {@code stevedore.toml} is made from its private directory. */
    public static LiveDaemon withConfig(Function<Path, String> config) {
        return new LiveDaemon(config);
    }

    /** A daemon with an empty configuration file (all defaults but the paths). */
    public static LiveDaemon withDefaults() {
        return new LiveDaemon(dir -> "");
    }

    @Override
    public void beforeAll(ExtensionContext ctx) throws IOException {
        dir = Files.createTempDirectory("sd-it-");
        Path cfg = dir.resolve("stevedore.toml");
        Files.writeString(cfg, config.apply(dir));
        process = DaemonProcess.start(dir, "--config", cfg.toString());
        client = CriClient.connect(process.socket());
    }

    @Override
    public void afterAll(ExtensionContext ctx) throws Exception {
        try {
            if (client != null) {
                client.close();
            }
            if (process != null) {
                int code = process.terminate();
                if (code != 0) {
                    throw new AssertionError("daemon exited " + code + " on SIGTERM; stderr:\n" + process.stderrText());
                }
                if (Files.exists(process.socket())) {
                    throw new AssertionError("daemon left its socket behind: " + process.socket());
                }
            }
        } finally {
            deleteTree(dir);
        }
    }

    public CriClient client() {
        return client;
    }

    public DaemonProcess process() {
        return process;
    }

    public Path dir() {
        return dir;
    }

    /** Removes a test directory; nothing in it may be mounted. */
    public static void deleteTree(Path dir) throws IOException {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}

package io.stevedore.conformance;

import static org.awaitility.Awaitility.await;

import io.stevedore.cri.v1.VersionRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code stevedore} daemon process, started from this checkout's {@code bin/stevedore} on
 * private socket and state directories, the way kubelet's node would run it. Tests talk to it
 * only through its socket ({@link CriClient}).
 *
 * <p>The checkout is found through the {@code stevedore.home} system property (set by the build).
 * The daemon runs on the same Java as the tests.
 */
public final class DaemonProcess implements AutoCloseable {
    private final Path dir;
    private final Process process;
    private final Path log;
    private final Path stderr;

    private DaemonProcess(Path dir, Process process) {
        this.dir = dir;
        this.process = process;
        this.log = dir.resolve("daemon.log");
        this.stderr = dir.resolve("stderr.log");
    }

    /** The checkout this suite tests. */
    public static Path home() {
        String home = System.getProperty("stevedore.home");
        if (home == null) {
            throw new IllegalStateException("system property stevedore.home (the checkout) is not set");
        }
        return Path.of(home).toAbsolutePath().normalize();
    }

    /** Paths a daemon in {@code dir} uses; nothing is created. */
    public static Path socketIn(Path dir) {
        return dir.resolve("run/stevedore.sock");
    }

    /**
     * Starts a daemon with its state under {@code dir} and waits until it answers {@code Version}.
     *
     * @param extraArgs more daemon flags, e.g. {@code --config <file>}
     */
    public static DaemonProcess start(Path dir, String... extraArgs) throws IOException {
        return start(dir, Map.of(), extraArgs);
    }

    /** As {@link #start(Path, String...)}, with more environment variables (e.g. failpoints). */
    public static DaemonProcess start(Path dir, Map<String, String> env, String... extraArgs) throws IOException {
        DaemonProcess d = launch(dir, env, extraArgs);
        try (var client = CriClient.connect(d.socket())) {
            await("daemon in " + dir + " answers Version")
                    .atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(20))
                    .ignoreExceptions()
                    .failFast("daemon exited", () -> !d.process.isAlive())
                    .until(() -> client.runtime().version(VersionRequest.getDefaultInstance()) != null);
        } catch (RuntimeException | Error e) {
            d.close();
            throw new IllegalStateException("daemon did not start; its stderr:\n" + d.stderrText(), e);
        }
        return d;
    }

    /** Starts a daemon and returns at once, serving or not (for start-up failure tests). */
    public static DaemonProcess launch(Path dir, String... extraArgs) throws IOException {
        return launch(dir, Map.of(), extraArgs);
    }

    /** As {@link #launch(Path, String...)}, with more environment variables. */
    public static DaemonProcess launch(Path dir, Map<String, String> env, String... extraArgs) throws IOException {
        Files.createDirectories(dir);
        List<String> cmd = new ArrayList<>();
        cmd.add(home().resolve("bin/stevedore").toString());
        cmd.addAll(List.of(
                "--socket", socketIn(dir).toString(),
                "--root", dir.resolve("root").toString(),
                "--run-root", dir.resolve("run").toString(),
                "--log-file", dir.resolve("daemon.log").toString(),
                "--log-level", "debug"));
        // A config file in the test's own directory keeps the host's /etc/stevedore out of the way.
        if (!List.of(extraArgs).contains("--config")) {
            Path cfg = dir.resolve("stevedore.toml");
            if (!Files.exists(cfg)) {
                Files.writeString(cfg, "");
            }
            cmd.addAll(List.of("--config", cfg.toString()));
        }
        cmd.addAll(List.of(extraArgs));
        var pb = new ProcessBuilder(cmd)
                .redirectOutput(dir.resolve("stdout.log").toFile())
                .redirectError(dir.resolve("stderr.log").toFile());
        ProcessHandle.current()
                .info()
                .command()
                .ifPresent(java -> pb.environment().put("STEVEDORE_JAVA", java));
        pb.environment().putAll(env);
        return new DaemonProcess(dir, pb.start());
    }

    public Path socket() {
        return socketIn(dir);
    }

    public Path root() {
        return dir.resolve("root");
    }

    public Process process() {
        return process;
    }

    /** Sends SIGTERM and returns the exit code (the daemon must stop within 30 s). */
    public int terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
            throw new AssertionError("daemon ignored SIGTERM for 30 s");
        }
        return process.exitValue();
    }

    /** Waits for a daemon that is expected to exit by itself; returns its exit code. */
    public int awaitExit(Duration limit) throws InterruptedException {
        if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("daemon still running after " + limit);
        }
        return process.exitValue();
    }

    public String stderrText() {
        return read(stderr);
    }

    public String logText() {
        return read(log);
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    /** Kills the daemon if it still runs (SIGKILL after a SIGTERM that is not answered). */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}

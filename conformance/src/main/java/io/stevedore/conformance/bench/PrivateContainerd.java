package io.stevedore.conformance.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A containerd of its own for a benchmark: private root, state, socket and (so nothing is shared
 * with another instance) content store, its CRI plugin on default settings plus {@code extraConfig}.
 * Started in the constructor; {@link #close} stops it and removes its directories.
 */
final class PrivateContainerd implements AutoCloseable {
    private final Path dir;
    private final Process process;
    private final long startedNanos;

    PrivateContainerd(String binary, String extraConfig) throws IOException {
        dir = Files.createTempDirectory("ctd-bench-");
        Files.writeString(dir.resolve("config.toml"), "version = 2\n" + extraConfig);
        startedNanos = System.nanoTime();
        process = new ProcessBuilder(
                        binary,
                        "--config",
                        dir.resolve("config.toml").toString(),
                        "--root",
                        dir.resolve("root").toString(),
                        "--state",
                        dir.resolve("state").toString(),
                        "--address",
                        socket().toString(),
                        "--log-level",
                        "warn")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("containerd.log").toFile())
                .start();
    }

    Path socket() {
        return dir.resolve("containerd.sock");
    }

    Process process() {
        return process;
    }

    /** {@link System#nanoTime} just before the process was launched. */
    long startedNanos() {
        return startedNanos;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
        // containerd mounts nothing here without containers; its tree is plain files (and a
        // read-only content store, which rm -rf handles where Files.delete would need chmods)
        new ProcessBuilder("rm", "-rf", dir.toString()).inheritIO().start().waitFor();
    }
}

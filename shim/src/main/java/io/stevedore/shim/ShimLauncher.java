package io.stevedore.shim;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Launches {@code stevedore-shim} for one container and waits for its sync report.
 *
 * <p>The JDK cannot hand a child an extra pipe fd, so the sync channel is the launched process's
 * stdout ({@code --sync-fd 1}): that process (the shim's foreground half) stays alive until the
 * detached shim has reported, copies the one JSON line to stdout and exits. The detached shim
 * holds none of this JVM's pipes, so the container outlives the daemon. Reading after the
 * foreground process exited is safe because the report is written before it exits.
 *
 * <p>Thread-safe and stateless: one launcher serves all containers. Not idempotent: each call
 * runs {@code <runtime> create}; on failure the caller must still {@code <runtime> delete}
 * whatever the runtime may have left.
 *
 * {@snippet :
 * var launcher = new ShimLauncher(Path.of("/usr/libexec/stevedore/stevedore-shim"), Duration.ofMinutes(1));
 * ShimStarted started = launcher.start(spec);     // then: runc --root R start <id>
 * }
 */
public final class ShimLauncher {
    private final Path binary;
    private final Duration timeout;

    /**
     * @param binary the {@code stevedore-shim} executable
     * @param timeout how long {@code <runtime> create} may take before {@link #start} gives up
     */
    public ShimLauncher(Path binary, Duration timeout) {
        this.binary = Objects.requireNonNull(binary, "binary");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
    }

    /** The command line for {@code spec}, as documented in {@code shim/PROTOCOL.md}. */
    public List<String> command(ShimSpec spec) {
        List<String> cmd = new ArrayList<>();
        cmd.add(binary.toString());
        add(cmd, "--id", spec.containerId());
        add(cmd, "--bundle", spec.bundle().toString());
        add(cmd, "--runtime", spec.runtime().toString());
        add(cmd, "--runtime-root", spec.runtimeRoot().toString());
        add(cmd, "--log-path", spec.logPath().toString());
        add(cmd, "--exit-dir", spec.exitDir().toString());
        add(cmd, "--socket-dir", spec.socketDir().toString());
        add(cmd, "--pid-file", spec.pidFile().toString());
        add(cmd, "--shim-log", spec.shimLog().toString());
        if (spec.terminal()) cmd.add("--terminal");
        if (spec.stdin()) cmd.add("--stdin");
        add(cmd, "--sync-fd", "1");
        return List.copyOf(cmd);
    }

    private static void add(List<String> cmd, String flag, String value) {
        cmd.add(flag);
        cmd.add(value);
    }

    /**
     * Runs the shim, which runs {@code <runtime> create}, and returns the container's init pid.
     *
     * @throws ShimException if the shim could not be run, the runtime failed (then {@link
     *     ShimException#runtimeMessage()} holds its output), or no report came within the timeout
     * @throws InterruptedException if interrupted while waiting; the shim keeps running
     */
    public ShimStarted start(ShimSpec spec) throws ShimException, InterruptedException {
        String action = "start shim for container \"" + spec.containerId() + "\"";
        Process p;
        try {
            p = new ProcessBuilder(command(spec))
                    .redirectInput(
                            ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .start();
        } catch (IOException e) {
            throw new ShimException(action + ": " + e.getMessage(), null, e);
        }
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new ShimException(action + ": no report within " + timeout);
        }
        String out;
        String err;
        try (var stdout = p.getInputStream();
                var stderr = p.getErrorStream()) {
            out = new String(stdout.readAllBytes(), StandardCharsets.UTF_8);
            err = new String(stderr.readAllBytes(), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new ShimException(action + ": read report: " + e.getMessage(), null, e);
        }
        if (out.isBlank()) {
            throw new ShimException(
                    action + ": shim exited with status " + p.exitValue() + (err.isEmpty() ? "" : ": " + err));
        }
        try {
            return switch (SyncMessage.parse(out.lines().findFirst().orElseThrow())) {
                case SyncMessage.Pid(int pid) -> new ShimStarted(pid);
                case SyncMessage.Failed(String message) ->
                    throw new ShimException(action + ": " + message, message, null);
            };
        } catch (IllegalArgumentException e) {
            throw new ShimException(action + ": " + e.getMessage(), null, e);
        }
    }
}

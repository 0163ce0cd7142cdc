package io.stevedore.server.container.checkpoint;

import io.stevedore.oci.runtime.Executables;
import io.stevedore.server.error.CriException;
import java.io.File;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Finds CRIU ({@code runtime.criu_path}: a path, or a name on {@code PATH}) and runs {@code criu
 * check} the first time a checkpoint needs it; the verdict is kept for the daemon's life (a CRIU
 * installed or upgraded later is seen after a restart). {@code criu check} is what tells a CRIU
 * too old for the kernel: Debian 12's 3.17 fails it on 6.x kernels ("vdso: Unexpected rt vDSO area
 * bounds"), and its complaint is what the caller gets. Thread-safe.
 */
public final class CriuCheck implements Criu {
    private static final int MAX_COMPLAINT = 600;

    private final String configured;
    private final Duration timeout;
    /** Guarded by this: the binary, or the FAILED_PRECONDITION every later call gets. */
    private Path binary;

    private CriException.FailedPrecondition refusal;

    /**
     * @param configured the configured CRIU: an absolute path, or a name looked up on PATH
     * @param timeout how long {@code criu check} may take before it counts as failed
     */
    public CriuCheck(String configured, Duration timeout) {
        this.configured = configured;
        this.timeout = timeout;
    }

    @Override
    public synchronized Path require() {
        if (binary == null && refusal == null) {
            try {
                binary = check();
            } catch (CriException.FailedPrecondition e) {
                refusal = e;
            }
        }
        if (refusal != null) {
            throw new CriException.FailedPrecondition(refusal.getMessage());
        }
        return binary;
    }

    private Path check() {
        Path criu;
        try {
            criu = Executables.find(configured, "CRIU");
        } catch (FileNotFoundException e) {
            throw new CriException.FailedPrecondition("checkpointing needs CRIU: " + e.getMessage()
                    + " (install the criu package, or set runtime.criu_path)");
        }
        String output;
        int exit;
        Path log = null;
        try {
            // to a file, not a pipe: a hung criu must not hang the read that would notice it
            log = Files.createTempFile("stevedore-criu-check-", ".log");
            Process p = new ProcessBuilder(criu.toString(), "check")
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new CriException.FailedPrecondition(
                        "checkpointing needs a working CRIU: \"" + criu + " check\" did not finish in " + timeout);
            }
            exit = p.exitValue();
            output = Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CriException.FailedPrecondition(
                    "checkpointing needs a working CRIU: cannot run " + criu + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CriException.Unavailable("checking CRIU: interrupted", e);
        } finally {
            deleteQuietly(log);
        }
        if (exit != 0) {
            throw new CriException.FailedPrecondition("checkpointing needs a working CRIU: \"" + criu
                    + " check\" failed on this kernel (exit status " + exit + "): " + complaint(output)
                    + " (a newer CRIU can be set with runtime.criu_path)");
        }
        return criu;
    }

    private static void deleteQuietly(Path p) {
        try {
            if (p != null) Files.deleteIfExists(p);
        } catch (IOException e) {
            // a small file in the temp dir
        }
    }

    /** CRIU's error lines, joined: the part of its output that says why. */
    static String complaint(String output) {
        var lines = output.lines()
                .map(String::strip)
                .filter(l -> l.startsWith("Error"))
                .toList();
        String text = String.join("; ", lines.isEmpty() ? output.strip().lines().toList() : lines);
        return text.length() <= MAX_COMPLAINT ? text : text.substring(0, MAX_COMPLAINT) + "…";
    }
}

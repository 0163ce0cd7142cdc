package io.stevedore.server.container;

import com.google.protobuf.ByteString;
import io.stevedore.oci.runtime.OciRuntime;
import io.stevedore.oci.runtime.OciRuntimeException;
import io.stevedore.oci.spec.Process;
import io.stevedore.oci.spec.SpecJson;
import io.stevedore.server.error.CriException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * ExecSync through {@code <runtime> exec} in the foreground: the runtime's stdio are the exec'd
 * process's pipes and its exit status is the process's.
 *
 * <p>The timeout is enforced on the process tree, not on our reading: when it passes, the exec'd
 * process and all its descendants are SIGKILLed, and the pipes are abandoned after a short drain
 * even if something that escaped still holds them. So an exec that ignores SIGTERM, forks, and
 * keeps the pipes open still returns at its timeout.
 */
final class ExecSync {
    /** After the process exits, how long output may keep arriving (from children holding the pipes). */
    private static final long DRAIN_MS = 2000;

    private ExecSync() {}

    static ExecResult run(
            OciRuntime rt,
            String id,
            Path bundle,
            Process process,
            long timeoutSeconds,
            ExecOutput budget,
            io.stevedore.oci.linux.Syscalls sys) {
        String tag = io.stevedore.server.state.Dirs.newId().substring(0, 16);
        Path processJson = bundle.resolve("exec-" + tag + ".json");
        Path pidFile = bundle.resolve("exec-" + tag + ".pid");
        java.lang.Process p = null;
        try (ExecOutput.Call output = budget.open()) {
            // Mode 0600 (its environment), on tmpfs, read once by the runtime: no fsync.
            SpecJson.write(process, processJson, io.stevedore.oci.fs.AtomicFiles.Durability.ATOMIC_ONLY);
            p = rt.exec(id, processJson, pidFile, Optional.empty());
            p.getOutputStream().close();
            var out = new Capture(p.getInputStream(), output.stream());
            var err = new Capture(p.getErrorStream(), output.stream());
            boolean exited = timeoutSeconds > 0 ? p.waitFor(timeoutSeconds, TimeUnit.SECONDS) : waitForever(p);
            if (!exited) {
                int pid = killTree(pidFile);
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                // With the runtime gone, the killed process is orphaned to us (the daemon is a child
                // subreaper): reap it, or it stays a zombie in the container's process list.
                if (pid > 0) reapAdopted(sys, pid);
                out.abandonAfter(500);
                err.abandonAfter(500);
                throw new CriException.DeadlineExceeded(
                        "exec in container \"" + id + "\": timeout " + timeoutSeconds + "s exceeded");
            }
            out.abandonAfter(DRAIN_MS);
            err.abandonAfter(DRAIN_MS);
            int code = p.exitValue();
            if (!Files.exists(pidFile) && code != 0 && out.bytes().isEmpty()) {
                // The runtime failed before starting the process: its own error is on stderr.
                throw new IllegalStateException("exec in container \"" + id + "\": "
                        + err.bytes()
                                .substring(0, Math.min(4096, err.bytes().size()))
                                .toStringUtf8()
                                .strip());
            }
            return new ExecResult(out.bytes(), err.bytes(), code);
        } catch (OciRuntimeException e) {
            throw new IllegalStateException("exec in container \"" + id + "\": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("exec in container \"" + id + "\": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            if (p != null) {
                killTree(pidFile);
                p.destroyForcibly();
            }
            throw new CriException.Unavailable("exec in container \"" + id + "\": cancelled", e);
        } finally {
            try {
                Files.deleteIfExists(processJson);
                Files.deleteIfExists(pidFile);
            } catch (IOException ignored) {
                // in the bundle: removed with the container
            }
        }
    }

    private static boolean waitForever(java.lang.Process p) throws InterruptedException {
        p.waitFor();
        return true;
    }

    /** SIGKILL to the exec'd process and every descendant; returns its pid, or 0 if unknown. */
    static int killTree(Path pidFile) {
        int pid = io.stevedore.server.host.Procs.readPidFile(pidFile);
        if (pid <= 0) return 0;
        ProcessHandle.of(pid).ifPresent(h -> {
            List<ProcessHandle> tree = new ArrayList<>(h.descendants().toList());
            h.destroyForcibly();
            tree.forEach(ProcessHandle::destroyForcibly);
        });
        return pid;
    }

    private static void reapAdopted(io.stevedore.oci.linux.Syscalls sys, int pid) throws InterruptedException {
        for (int i = 0; i < 200 && Files.exists(Path.of("/proc", Integer.toString(pid))); i++) {
            if (sys.reap(pid)) return;
            Thread.sleep(5);
        }
    }

    /** Reads one pipe to its end on a virtual thread, keeping what the output budget grants. */
    private static final class Capture {
        private final ExecOutput.Stream kept;
        private final InputStream in;
        private final Thread reader;
        private ByteString bytes;

        Capture(InputStream in, ExecOutput.Stream kept) {
            this.in = in;
            this.kept = kept;
            this.reader = Thread.ofVirtual().start(() -> {
                byte[] b = new byte[8192];
                try {
                    int n;
                    while ((n = in.read(b)) >= 0) {
                        kept.append(b, 0, n);
                    }
                } catch (IOException e) {
                    // closed by abandonAfter
                }
            });
        }

        void abandonAfter(long millis) throws InterruptedException {
            if (!reader.join(java.time.Duration.ofMillis(millis))) {
                try {
                    in.close();
                } catch (IOException ignored) {
                    // nothing more to read
                }
                reader.join(java.time.Duration.ofMillis(500));
            }
        }

        /** What was kept, cut-marker included; the same value on every call. */
        synchronized ByteString bytes() {
            if (bytes == null) bytes = kept.bytes();
            return bytes;
        }
    }
}

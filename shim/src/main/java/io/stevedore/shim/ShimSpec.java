package io.stevedore.shim;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Everything one shim needs: the inputs of {@code stevedore-shim}'s command line (see {@code
 * shim/PROTOCOL.md}). All paths must be absolute; the directories must exist.
 *
 * @param containerId the container id, also the runtime's container id and the exit file's name
 * @param bundle the OCI bundle directory holding {@code config.json}
 * @param runtime the OCI runtime binary (runc command line)
 * @param runtimeRoot the runtime's state root ({@code runc --root})
 * @param logPath the CRI log file the shim writes
 * @param exitDir where the shim writes {@code <id>} (exit code) and {@code <id>.oom}
 * @param socketDir the shim's own directory: control and attach sockets, {@code shim.pid}
 * @param pidFile where the runtime writes the container's init pid
 * @param terminal whether the container has a terminal (the runtime gets {@code --console-socket})
 * @param stdin whether the container's stdin stays open for attach
 */
public record ShimSpec(
        String containerId,
        Path bundle,
        Path runtime,
        Path runtimeRoot,
        Path logPath,
        Path exitDir,
        Path socketDir,
        Path pidFile,
        boolean terminal,
        boolean stdin) {

    public ShimSpec {
        Objects.requireNonNull(containerId, "containerId");
        if (containerId.isEmpty() || containerId.contains("/")) {
            throw new IllegalArgumentException("invalid container id \"" + containerId + "\"");
        }
        for (Path p : new Path[] {bundle, runtime, runtimeRoot, logPath, exitDir, socketDir, pidFile}) {
            Objects.requireNonNull(p, "path");
            if (!p.isAbsolute()) throw new IllegalArgumentException("path must be absolute: " + p);
        }
    }

    /** The control socket ({@code reopen-log}, {@code resize}). */
    public Path controlSocket() {
        return socketDir.resolve("ctl.sock");
    }

    /** The attach socket (framed stdio). */
    public Path attachSocket() {
        return socketDir.resolve("attach.sock");
    }

    /** The file holding the shim's own pid (written before it runs the runtime). */
    public Path shimPidFile() {
        return socketDir.resolve("shim.pid");
    }

    /**
     * The shim's own error log, in its own directory under the daemon's run root: never beside
     * the container log, whose directory belongs to the kubelet (and to its log rotation).
     */
    public Path shimLog() {
        return socketDir.resolve("shim.log");
    }
}

package io.stevedore.server;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything the daemon is configured with, after the TOML file and the command line have been
 * merged and validated. Defaults work with no file at all.
 *
 * <p>The file format ({@code /etc/stevedore/stevedore.toml}) is documented in {@code
 * docs/CONFIGURATION.md}; {@link ConfigLoader} is the only reader.
 *
 * @param socket the CRI gRPC socket kubelet and crictl connect to
 * @param socketGroup the group that owns the socket (mode 0660), by name or numeric gid; empty for
 *     root's group
 * @param root persistent state (metadata, content, snapshots)
 * @param runRoot volatile state on tmpfs (bundles, shim sockets, exit files, namespace pins)
 * @param logLevel the daemon's log threshold
 * @param logFile JSON-lines log file; empty for standard error
 * @param shutdownTimeout how long in-flight RPCs may run after SIGTERM before they are cut off
 * @param cgroupDriver how container cgroups are named and managed
 * @param defaultRuntimeHandler the handler used when a pod names none
 * @param runtimeHandlers OCI runtimes by CRI runtime handler name
 * @param criuPath the CRIU that CheckpointContainer uses: an absolute path or a name on PATH, its
 *     file named {@code criu} (the OCI runtime finds it by that name on PATH)
 * @param cniConfDir where the CNI network configuration is read from
 * @param cniBinDirs where CNI plugins are looked up, in order
 * @param images how images are pulled
 * @param stream the streaming server behind Exec, Attach and PortForward
 * @param limits bounds on what one request may make the daemon hold
 */
public record DaemonConfig(
        Path socket,
        String socketGroup,
        Path root,
        Path runRoot,
        LogLevel logLevel,
        Optional<Path> logFile,
        Duration shutdownTimeout,
        CgroupDriver cgroupDriver,
        String defaultRuntimeHandler,
        Map<String, RuntimeHandler> runtimeHandlers,
        String criuPath,
        Path cniConfDir,
        List<Path> cniBinDirs,
        Images images,
        Stream stream,
        Limits limits) {

    public static final Path DEFAULT_CONFIG_FILE = Path.of("/etc/stevedore/stevedore.toml");

    public DaemonConfig {
        Objects.requireNonNull(socket, "socket");
        Objects.requireNonNull(socketGroup, "socketGroup");
        Objects.requireNonNull(root, "root");
        Objects.requireNonNull(runRoot, "runRoot");
        Objects.requireNonNull(logLevel, "logLevel");
        Objects.requireNonNull(logFile, "logFile");
        Objects.requireNonNull(shutdownTimeout, "shutdownTimeout");
        Objects.requireNonNull(cgroupDriver, "cgroupDriver");
        runtimeHandlers = Map.copyOf(runtimeHandlers);
        Objects.requireNonNull(criuPath, "criuPath");
        if (!criuPath.equals("criu") && !(criuPath.startsWith("/") && criuPath.endsWith("/criu"))) {
            throw new IllegalArgumentException(
                    "criu_path must be \"criu\" or an absolute path ending in /criu (got \"" + criuPath + "\")");
        }
        cniBinDirs = List.copyOf(cniBinDirs);
        Objects.requireNonNull(images, "images");
        Objects.requireNonNull(stream, "stream");
        Objects.requireNonNull(limits, "limits");
        if (!runtimeHandlers.containsKey(defaultRuntimeHandler)) {
            throw new IllegalArgumentException(
                    "default runtime handler \"" + defaultRuntimeHandler + "\" is not configured");
        }
    }

    /** The configuration used when there is no file and no flag. */
    public static DaemonConfig defaults() {
        return new DaemonConfig(
                Path.of("/run/stevedore/stevedore.sock"),
                "",
                Path.of("/var/lib/stevedore"),
                Path.of("/run/stevedore"),
                LogLevel.INFO,
                Optional.empty(),
                Duration.ofSeconds(10),
                CgroupDriver.CGROUPFS,
                "runc",
                Map.of("runc", new RuntimeHandler("runc", Optional.empty())),
                "criu",
                Path.of("/etc/cni/net.d"),
                List.of(Path.of("/opt/cni/bin"), Path.of("/usr/lib/cni")),
                new Images(
                        Path.of("/etc/stevedore/certs.d"),
                        3,
                        Duration.ofMinutes(5),
                        Images.DEFAULT_MAX_LAYER_SIZE,
                        Images.DEFAULT_MAX_IMAGE_SIZE),
                new Stream("127.0.0.1", 0, Duration.ofHours(4), Optional.empty(), Optional.empty()),
                new Limits(Limits.DEFAULT_EXEC_SYNC_OUTPUT));
    }

    /** The daemon's log threshold; names as in the file and on the command line. */
    public enum LogLevel {
        TRACE,
        DEBUG,
        INFO,
        WARN,
        ERROR
    }

    /**
     * How cgroups are named and managed: {@code CGROUPFS} paths written by the runtime, or {@code
     * SYSTEMD} units (runc {@code --systemd-cgroup}, {@code slice:prefix:name} paths), which needs
     * systemd running as init and must match the kubelet's {@code cgroupDriver}.
     */
    public enum CgroupDriver {
        CGROUPFS,
        SYSTEMD
    }

    /**
     * One OCI runtime, selected by CRI runtime handler name.
     *
     * @param path the runtime binary: an absolute path, or a name looked up on PATH
     * @param root the runtime's own state directory ({@code --root}); empty for {@code
     *     <run_root>/runtime/<handler>}
     */
    public record RuntimeHandler(String path, Optional<Path> root) {
        public RuntimeHandler {
            Objects.requireNonNull(path, "path");
            Objects.requireNonNull(root, "root");
        }
    }

    /**
     * Image pulls.
     *
     * @param registryConfigDir per-registry hosts configuration, containerd's {@code certs.d} layout
     *     ({@code <dir>/<host>/hosts.toml}): mirrors, server override, TLS
     * @param maxConcurrentDownloads layers of one pull downloaded and unpacked at once
     * @param noProgressTimeout a blob download that receives nothing for this long fails
     * @param maxLayerSize bytes one layer may unpack to (file contents plus a block per entry); a
     *     pull that passes it fails with RESOURCE_EXHAUSTED: a gzip bomb must not fill the disk
     * @param maxImageSize bytes all the layers one pull unpacks may add up to
     */
    public record Images(
            Path registryConfigDir,
            int maxConcurrentDownloads,
            Duration noProgressTimeout,
            long maxLayerSize,
            long maxImageSize) {
        /** 32 GiB: larger than any layer seen in the wild (CUDA and model images stay under 20 GiB). */
        public static final long DEFAULT_MAX_LAYER_SIZE = 32L << 30;

        public static final long DEFAULT_MAX_IMAGE_SIZE = 64L << 30;

        public Images {
            Objects.requireNonNull(registryConfigDir, "registryConfigDir");
            Objects.requireNonNull(noProgressTimeout, "noProgressTimeout");
            if (maxConcurrentDownloads < 1) {
                throw new IllegalArgumentException("maxConcurrentDownloads must be at least 1");
            }
            if (maxLayerSize < 1 || maxImageSize < 1) {
                throw new IllegalArgumentException("maxLayerSize and maxImageSize must be at least 1");
            }
        }
    }

    /**
     * The streaming server (HTTP with SPDY/3.1 and WebSocket upgrades) whose URLs Exec, Attach and
     * PortForward return; kubelet proxies clients to it.
     *
     * @param address the address it listens on (an IP literal or a host name)
     * @param port its port; 0 for an ephemeral one
     * @param idleTimeout a session with no traffic either way for this long is closed (containerd: 4h)
     * @param tlsCert PEM certificate chain; with {@code tlsKey} the server speaks HTTPS only
     * @param tlsKey PEM private key (PKCS#8) of {@code tlsCert}
     */
    public record Stream(
            String address, int port, Duration idleTimeout, Optional<Path> tlsCert, Optional<Path> tlsKey) {
        public Stream {
            Objects.requireNonNull(address, "address");
            Objects.requireNonNull(idleTimeout, "idleTimeout");
            Objects.requireNonNull(tlsCert, "tlsCert");
            Objects.requireNonNull(tlsKey, "tlsKey");
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("stream port must be 0-65535");
            }
            if (tlsCert.isPresent() != tlsKey.isPresent()) {
                throw new IllegalArgumentException("stream tls_cert and tls_key go together");
            }
            if (idleTimeout.isZero() || idleTimeout.isNegative()) {
                throw new IllegalArgumentException("stream idle_timeout must be positive");
            }
        }

        public boolean tls() {
            return tlsCert.isPresent();
        }
    }

    /**
     * Bounds on what one request may make the daemon hold.
     *
     * @param execSyncOutput bytes of ExecSync stdout and stderr together kept per call; the rest is
     *     dropped and the answer says so. All calls in flight keep at most four times this.
     * @param containerEventsBuffer events one GetContainerEvents subscriber may have waiting; one
     *     that falls further behind is dropped (its stream ends with RESOURCE_EXHAUSTED)
     */
    public record Limits(int execSyncOutput, int containerEventsBuffer) {
        /** 16 MiB less 64 KiB: the answer must fit the kubelet's 16 MiB message limit. */
        public static final int DEFAULT_EXEC_SYNC_OUTPUT = (16 << 20) - (64 << 10);

        public static final int MIN_EXEC_SYNC_OUTPUT = 4096;
        public static final int MAX_EXEC_SYNC_OUTPUT = DEFAULT_EXEC_SYNC_OUTPUT;

        /** As containerd's events channel. */
        public static final int DEFAULT_CONTAINER_EVENTS_BUFFER = 1000;

        public static final int MAX_CONTAINER_EVENTS_BUFFER = 100_000;

        public Limits {
            if (execSyncOutput < MIN_EXEC_SYNC_OUTPUT || execSyncOutput > MAX_EXEC_SYNC_OUTPUT) {
                throw new IllegalArgumentException(
                        "exec_sync_output must be " + MIN_EXEC_SYNC_OUTPUT + "-" + MAX_EXEC_SYNC_OUTPUT);
            }
            if (containerEventsBuffer < 1 || containerEventsBuffer > MAX_CONTAINER_EVENTS_BUFFER) {
                throw new IllegalArgumentException("container_events_buffer must be 1-" + MAX_CONTAINER_EVENTS_BUFFER);
            }
        }

        /** With the default events buffer. */
        public Limits(int execSyncOutput) {
            this(execSyncOutput, DEFAULT_CONTAINER_EVENTS_BUFFER);
        }
    }
}

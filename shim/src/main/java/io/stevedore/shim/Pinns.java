package io.stevedore.shim;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Creates a sandbox's network, IPC and UTS namespaces with {@code stevedore-pinns} and pins them
 * as bind mounts under {@code <pin dir>/<kind>/<sandbox id>}, so they outlive every process in
 * them and the OCI runtime and CNI can join them by path (CRI-O's pinns, containerd's netns).
 *
 * <p>The pin dir must be in the mount namespace in which the runtime and CNI plugins run
 * (normally the host's); see "stevedore-pinns" in {@code shim/PROTOCOL.md}. The new network
 * namespace has only {@code lo}, and it is down: CNI's loopback plugin brings it up.
 *
 * <p>Thread-safe and stateless. {@link #pin} is not idempotent (a second pin of the same id
 * fails and leaves the first one alone); {@link #remove} is. Both need root.
 *
 * {@snippet :
 * var pinns = new Pinns(Path.of("/usr/libexec/stevedore/stevedore-pinns"), Path.of("/run/stevedore/ns"));
 * PinnedNamespaces ns = pinns.pin(sandboxId, EnumSet.allOf(Pinns.Kind.class), Optional.of("web-0"),
 *     Map.of("net.ipv4.ip_unprivileged_port_start", "0"));
 * // ... RemovePodSandbox:
 * pinns.remove(sandboxId);
 * }
 */
public final class Pinns {
    /** A namespace that can be pinned; the name is its {@code /proc/<pid>/ns/} entry and pin subdir. */
    public enum Kind {
        NET,
        IPC,
        UTS;

        /** {@code net}, {@code ipc} or {@code uts}. */
        public String dirName() {
            return name().toLowerCase(Locale.ROOT);
        }

        String flag() {
            return "--" + dirName();
        }
    }

    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

    private final Path binary;
    private final Path pinDir;
    private final Duration timeout;

    /**
     * @param binary the {@code stevedore-pinns} executable
     * @param pinDir the absolute pin directory; it and its {@code net}, {@code ipc}, {@code uts}
     *     subdirectories are created as needed (its parent must exist)
     */
    public Pinns(Path binary, Path pinDir) {
        this(binary, pinDir, DEFAULT_TIMEOUT);
    }

    /** As {@link #Pinns(Path, Path)}, with a limit on each run of the tool. */
    public Pinns(Path binary, Path pinDir, Duration timeout) {
        this.binary = Objects.requireNonNull(binary, "binary");
        this.pinDir = Objects.requireNonNull(pinDir, "pinDir");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        if (!pinDir.isAbsolute()) throw new IllegalArgumentException("pin dir must be absolute: " + pinDir);
    }

    /** Where the {@code kind} namespace of {@code sandboxId} is (or would be) pinned. */
    public Path pinPath(String sandboxId, Kind kind) {
        return pinDir.resolve(kind.dirName()).resolve(checkId(sandboxId));
    }

    /** The command line of {@link #pin}, as documented in {@code shim/PROTOCOL.md}. */
    public List<String> pinCommand(
            String sandboxId, Set<Kind> kinds, Optional<String> hostname, Map<String, String> sysctls) {
        checkId(sandboxId);
        if (kinds.isEmpty())
            throw new IllegalArgumentException("no namespace to pin for sandbox \"" + sandboxId + "\"");
        if (hostname.isPresent() && !kinds.contains(Kind.UTS)) {
            throw new IllegalArgumentException("hostname for sandbox \"" + sandboxId + "\" needs a UTS namespace");
        }
        List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--dir", pinDir.toString(), "--id", sandboxId));
        for (Kind k : EnumSet.copyOf(kinds)) cmd.add(k.flag());
        hostname.ifPresent(h -> cmd.addAll(List.of("--hostname", h)));
        new TreeMap<>(sysctls).forEach((k, v) -> {
            if (k.isEmpty() || k.contains("=")) throw new IllegalArgumentException("invalid sysctl name \"" + k + "\"");
            cmd.addAll(List.of("--sysctl", k + "=" + v));
        });
        return List.copyOf(cmd);
    }

    /** The command line of {@link #remove}: all three kinds. */
    public List<String> removeCommand(String sandboxId) {
        return List.of(binary.toString(), "--remove", "--dir", pinDir.toString(), "--id", checkId(sandboxId));
    }

    /**
     * Creates the {@code kinds} namespaces in one {@code unshare}, sets the hostname (UTS) and the
     * sysctls in them, and pins them. On failure nothing is left pinned for {@code sandboxId}.
     *
     * @param sysctls namespaced sysctls only ({@code net.*} needs {@link Kind#NET}; {@code
     *     kernel.shm*}, {@code kernel.msg*}, {@code kernel.sem*}, {@code fs.mqueue.*} need {@link
     *     Kind#IPC}); a name with {@code /} is a path below {@code /proc/sys}
     * @throws IllegalArgumentException for an invalid id, no kinds, or a hostname without UTS
     * @throws PinnsException if the tool failed (its stderr is {@link PinnsException#toolMessage()})
     *     or did not finish within the timeout
     * @throws InterruptedException if interrupted; the tool is killed and its pins removed first
     */
    public PinnedNamespaces pin(
            String sandboxId, Set<Kind> kinds, Optional<String> hostname, Map<String, String> sysctls)
            throws PinnsException, InterruptedException {
        String action = "pin namespaces of sandbox \"" + sandboxId + "\"";
        List<String> cmd = pinCommand(sandboxId, kinds, hostname, sysctls);
        try {
            run(action, cmd);
        } catch (PinnsException e) {
            // No error line: the tool was killed or timed out before it could undo its pins.
            if (e.toolMessage().isEmpty()) cleanUpAfter(sandboxId, e);
            throw e;
        } catch (InterruptedException e) {
            cleanUpAfter(sandboxId, e);
            throw e;
        }
        return new PinnedNamespaces(
                pinned(sandboxId, kinds, Kind.NET),
                pinned(sandboxId, kinds, Kind.IPC),
                pinned(sandboxId, kinds, Kind.UTS));
    }

    private Optional<Path> pinned(String id, Set<Kind> kinds, Kind kind) {
        return kinds.contains(kind) ? Optional.of(pinPath(id, kind)) : Optional.empty();
    }

    private void cleanUpAfter(String sandboxId, Exception cause) {
        boolean interrupted = Thread.interrupted();
        try {
            remove(sandboxId);
        } catch (PinnsException | InterruptedException e) {
            cause.addSuppressed(e);
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    /**
     * Unmounts and deletes every pin of {@code sandboxId}. Idempotent: missing pins are fine.
     *
     * @throws PinnsException if a pin could not be removed (e.g. not root)
     */
    public void remove(String sandboxId) throws PinnsException, InterruptedException {
        run("remove pinned namespaces of sandbox \"" + sandboxId + "\"", removeCommand(sandboxId));
    }

    /**
     * The sandbox ids that have a pin file of any kind under the pin directory, pinned or a
     * leftover: what recovery compares with the pods it knows.
     */
    public Set<String> pinnedIds() throws IOException {
        Set<String> ids = new TreeSet<>();
        for (Kind k : Kind.values()) {
            Path dir = pinDir.resolve(k.dirName());
            if (!Files.isDirectory(dir)) continue;
            try (Stream<Path> s = Files.list(dir)) {
                s.map(p -> p.getFileName().toString()).forEach(ids::add);
            }
        }
        return ids;
    }

    /**
     * Whether {@code pin} is a pinned namespace: the topmost mount on it, in this process's mount
     * namespace, is an nsfs mount. A leftover empty file is not.
     */
    public boolean isPinned(Path pin) throws IOException {
        String mountPoint;
        try {
            mountPoint = pin.toRealPath().toString();
        } catch (NoSuchFileException e) {
            return false;
        }
        try (Stream<String> lines = Files.lines(MOUNTINFO)) {
            return PinnsMountInfo.nsfsMount(lines, mountPoint).isPresent();
        }
    }

    private void run(String action, List<String> cmd) throws PinnsException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(cmd)
                    .redirectInput(
                            ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
        } catch (IOException e) {
            throw new PinnsException(action + ": " + e.getMessage(), null, e);
        }
        try (InputStream stderr = p.getErrorStream()) {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor();
                throw new PinnsException(action + ": stevedore-pinns did not finish within " + timeout, null, null);
            }
            // One short line at most: it fits the pipe, so reading after the exit cannot block.
            String err = new String(stderr.readAllBytes(), StandardCharsets.UTF_8).strip();
            if (p.exitValue() != 0) {
                if (err.isEmpty()) {
                    throw new PinnsException(
                            action + ": stevedore-pinns exited with status " + p.exitValue(), null, null);
                }
                throw new PinnsException(action + ": " + err, err, null);
            }
        } catch (IOException e) {
            throw new PinnsException(action + ": read stderr: " + e.getMessage(), null, e);
        } catch (InterruptedException e) {
            p.destroyForcibly().waitFor(); // a mount in progress completes before the kill: then clean up
            throw e;
        }
    }

    private static String checkId(String id) {
        Objects.requireNonNull(id, "sandboxId");
        if (id.isEmpty() || id.contains("/") || id.equals(".") || id.equals("..")) {
            throw new IllegalArgumentException("invalid sandbox id \"" + id + "\"");
        }
        return id;
    }
}

package io.stevedore.oci.runtime;

import io.stevedore.oci.spec.Resources;
import io.stevedore.oci.spec.SpecJson;
import java.io.File;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Drives a runtime with runc's command line (runc, crun): every call runs
 * {@code <binary> --root <root> --log <scratch>/log.json --log-format json [--systemd-cgroup] <command> …}.
 *
 * <p>Thread-safe and immutable: each call gets its own scratch directory under the temp dir (the
 * JSON log, captured stdout and stderr), deleted when the call ends, so concurrent failures never
 * read each other's log. Each call but the foreground {@link #exec} is bounded by the timeout; a
 * runtime that overruns it is killed with its descendants and {@link OciRuntimeException.TimedOut}
 * is thrown. An interrupted caller kills the runtime too and gets {@link InterruptedException}.
 *
 * {@snippet :
 * RuncCli runc = new RuncCli("runc", Path.of("/run/stevedore/runc"), false).withTimeout(Duration.ofSeconds(10));
 * runc.create("abc", bundle, bundle.resolve("init.pid"), Optional.empty(), ContainerIo.toFiles(out, err));
 * runc.start("abc");
 * }
 */
public final class RuncCli implements OciRuntime {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    private static final Redirect NULL_INPUT = Redirect.from(new File("/dev/null"));
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_.+][A-Za-z0-9_.+-]*");
    private static final int MAX_MESSAGE = 4096;

    private final Path binary;
    private final String name;
    private final Path root;
    private final boolean systemdCgroup;
    private final Duration timeout;
    private final Path tempDir;
    /** The CRIU that {@code checkpoint} runs; null: whichever {@code criu} the runtime finds on PATH. */
    private final Path criu;

    /**
     * @param binary an absolute or relative path, or a bare name looked up on {@code PATH}
     * @param root the runtime's state directory ({@code --root}); the runtime creates it
     * @param systemdCgroup pass {@code --systemd-cgroup} (cgroupsPath is then {@code slice:prefix:name})
     * @throws FileNotFoundException if {@code binary} is not an executable file or is not on PATH
     */
    public RuncCli(String binary, Path root, boolean systemdCgroup) throws FileNotFoundException {
        this(
                Executables.find(binary, "OCI runtime"),
                root,
                systemdCgroup,
                DEFAULT_TIMEOUT,
                Path.of(System.getProperty("java.io.tmpdir")),
                null);
    }

    private RuncCli(Path binary, Path root, boolean systemdCgroup, Duration timeout, Path tempDir, Path criu) {
        this.binary = binary;
        this.name = binary.getFileName().toString();
        this.root = Objects.requireNonNull(root, "root").toAbsolutePath();
        this.systemdCgroup = systemdCgroup;
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
        this.timeout = timeout;
        this.tempDir = tempDir;
        this.criu = criu;
    }

    /** The same runtime with another per-call timeout. */
    public RuncCli withTimeout(Duration timeout) {
        return new RuncCli(binary, root, systemdCgroup, timeout, tempDir, criu);
    }

    /** The same runtime with per-call scratch directories under {@code dir} (default: java.io.tmpdir). */
    public RuncCli withTempDir(Path dir) {
        return new RuncCli(binary, root, systemdCgroup, timeout, dir, criu);
    }

    /**
     * The same runtime with {@code checkpoint} running this CRIU: its directory goes first on the
     * runtime's {@code PATH}, where runc (1.1 and later) and crun look for {@code criu}.
     *
     * @throws IllegalArgumentException unless the file is named {@code criu}
     */
    public RuncCli withCriu(Path criu) {
        if (!criu.getFileName().toString().equals("criu")) {
            throw new IllegalArgumentException("the runtime finds CRIU as \"criu\" on PATH, not as " + criu);
        }
        return new RuncCli(binary, root, systemdCgroup, timeout, tempDir, criu.toAbsolutePath());
    }

    public Path binary() {
        return binary;
    }

    public Path root() {
        return root;
    }

    public Duration timeout() {
        return timeout;
    }

    @Override
    public void create(String id, Path bundle, Path pidFile, Optional<Path> consoleSocket, ContainerIo io)
            throws OciRuntimeException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("create", "--bundle", abs(bundle), "--pid-file", abs(pidFile)));
        consoleSocket.ifPresent(s -> args.addAll(List.of("--console-socket", abs(s))));
        args.add(checkId(id));
        call("create", id, args, io, null, false);
    }

    @Override
    public void start(String id) throws OciRuntimeException, InterruptedException {
        call("start", id, List.of("start", checkId(id)), null, null, true);
    }

    @Override
    public Optional<OciState> state(String id) throws OciRuntimeException, InterruptedException {
        Outcome o;
        try {
            o = call("state", id, List.of("state", checkId(id)), null, null, true);
        } catch (OciRuntimeException.NotFound e) {
            return Optional.empty();
        }
        try {
            return Optional.of(RuntimeOutput.state(o.stdout()));
        } catch (IOException | RuntimeException e) {
            throw new OciRuntimeException(name, "state", id, "unexpected output: " + cut(o.stdout()), o.exitCode(), e);
        }
    }

    @Override
    public void kill(String id, int signal, boolean all) throws OciRuntimeException, InterruptedException {
        if (signal < 1 || signal > 64) {
            throw new IllegalArgumentException("signal out of range: " + signal);
        }
        List<String> args = new ArrayList<>(List.of("kill"));
        if (all) {
            args.add("--all");
        }
        args.addAll(List.of(checkId(id), Integer.toString(signal)));
        call("kill", id, args, null, null, true);
    }

    @Override
    public void delete(String id, boolean force) throws OciRuntimeException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("delete"));
        if (force) {
            args.add("--force");
        }
        args.add(checkId(id));
        try {
            call("delete", id, args, null, null, true);
        } catch (OciRuntimeException.NotFound e) {
            // already gone: delete is idempotent
        }
    }

    @Override
    public void execDetached(String id, Path processJson, Path pidFile, Optional<Path> consoleSocket, ContainerIo io)
            throws OciRuntimeException, InterruptedException {
        call("exec", id, execArgs(id, processJson, pidFile, consoleSocket, true), io, null, true);
    }

    @Override
    public java.lang.Process exec(String id, Path processJson, Path pidFile, Optional<Path> consoleSocket)
            throws OciRuntimeException {
        List<String> args = execArgs(id, processJson, pidFile, consoleSocket, false);
        Path scratch = scratch("exec", id);
        try {
            java.lang.Process p = new ProcessBuilder(argv(scratch.resolve("log.json"), args)).start();
            p.onExit().whenComplete((x, t) -> deleteRecursively(scratch));
            return p;
        } catch (IOException e) {
            deleteRecursively(scratch);
            throw new OciRuntimeException(name, "exec", id, "run " + binary + ": " + e.getMessage(), -1, e);
        }
    }

    @Override
    public void update(String id, Resources resources) throws OciRuntimeException, InterruptedException {
        call("update", id, List.of("update", "--resources", "-", checkId(id)), null, SpecJson.toJson(resources), true);
    }

    @Override
    public void pause(String id) throws OciRuntimeException, InterruptedException {
        call("pause", id, List.of("pause", checkId(id)), null, null, true);
    }

    @Override
    public void resume(String id) throws OciRuntimeException, InterruptedException {
        call("resume", id, List.of("resume", checkId(id)), null, null, true);
    }

    @Override
    public void checkpoint(String id, CheckpointOptions opts) throws OciRuntimeException, InterruptedException {
        List<String> args = new ArrayList<>(
                List.of("checkpoint", "--image-path", abs(opts.imagePath()), "--work-path", abs(opts.workPath())));
        if (opts.leaveRunning()) {
            args.add("--leave-running");
        }
        args.add(checkId(id));
        Map<String, String> env = criu == null
                ? Map.of()
                : Map.of(
                        "PATH",
                        criu.getParent() + File.pathSeparator + System.getenv().getOrDefault("PATH", ""));
        Outcome o = run("checkpoint", id, args, null, null, opts.timeout(), env);
        if (o.exitCode() != 0) {
            throw failure("checkpoint", id, o, true);
        }
    }

    @Override
    public List<OciState> list() throws OciRuntimeException, InterruptedException {
        Outcome o = call("list", null, List.of("list", "--format", "json"), null, null, false);
        try {
            return RuntimeOutput.states(o.stdout());
        } catch (IOException | RuntimeException e) {
            throw new OciRuntimeException(name, "list", null, "unexpected output: " + cut(o.stdout()), o.exitCode(), e);
        }
    }

    @Override
    public Optional<OciFeatures> features() throws OciRuntimeException, InterruptedException {
        Outcome o = run("features", null, List.of("features"), null, null, timeout, Map.of());
        if (o.exitCode() != 0) {
            String msg = o.message();
            // runc < 1.1.0 (urfave/cli): "No help topic for 'features'"; crun: "unknown command"
            if (msg.contains("No help topic")
                    || msg.toLowerCase(java.util.Locale.ROOT).contains("unknown command")) {
                return Optional.empty();
            }
            throw failure("features", null, o, false);
        }
        try {
            return Optional.of(RuntimeOutput.features(o.stdout()));
        } catch (IOException | RuntimeException e) {
            throw new OciRuntimeException(name, "features", null, "unexpected output: " + cut(o.stdout()), 0, e);
        }
    }

    private List<String> execArgs(
            String id, Path processJson, Path pidFile, Optional<Path> consoleSocket, boolean detach) {
        List<String> args = new ArrayList<>(List.of("exec", "--process", abs(processJson), "--pid-file", abs(pidFile)));
        if (detach) {
            args.add("--detach");
        }
        consoleSocket.ifPresent(s -> args.addAll(List.of("--console-socket", abs(s))));
        args.add(checkId(id));
        return args;
    }

    private Outcome call(String action, String id, List<String> args, ContainerIo io, String stdin, boolean onContainer)
            throws OciRuntimeException, InterruptedException {
        Outcome o = run(action, id, args, io, stdin, timeout, Map.of());
        if (o.exitCode() != 0) {
            throw failure(action, id, o, onContainer);
        }
        return o;
    }

    private OciRuntimeException failure(String action, String id, Outcome o, boolean onContainer) {
        String msg = cut(o.message(name, action));
        if (onContainer && notFound(id, msg)) {
            return new OciRuntimeException.NotFound(name, action, id, msg, o.exitCode());
        }
        if (onContainer && (msg.contains("not running") || msg.contains("stopped container"))) {
            return new OciRuntimeException.NotRunning(name, action, id, msg, o.exitCode());
        }
        return new OciRuntimeException(name, action, id, msg, o.exitCode(), null);
    }

    /** runc: "container does not exist"; crun: opening {@code <root>/<id>/status} fails with ENOENT. */
    private boolean notFound(String id, String msg) {
        return msg.contains("does not exist")
                || (msg.contains("No such file or directory") && !Files.exists(root.resolve(id)));
    }

    private Outcome run(
            String action,
            String id,
            List<String> args,
            ContainerIo io,
            String stdin,
            Duration timeout,
            Map<String, String> env)
            throws OciRuntimeException, InterruptedException {
        Path scratch = scratch(action, id);
        try {
            Path log = scratch.resolve("log.json");
            Path out = scratch.resolve("stdout");
            Path err = scratch.resolve("stderr");
            ProcessBuilder pb = new ProcessBuilder(argv(log, args));
            pb.environment().putAll(env);
            if (io != null) {
                pb.redirectInput(io.stdin()).redirectOutput(io.stdout()).redirectError(io.stderr());
            } else {
                Redirect in = NULL_INPUT;
                if (stdin != null) {
                    in = Redirect.from(
                            Files.writeString(scratch.resolve("stdin"), stdin).toFile());
                }
                pb.redirectInput(in).redirectOutput(out.toFile()).redirectError(err.toFile());
            }
            java.lang.Process p = pb.start();
            try {
                if (!p.waitFor(timeout.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS)) {
                    destroy(p);
                    String logged = RuntimeLog.lastError(log)
                            .map(m -> "; last logged error: " + m)
                            .orElse("");
                    throw new OciRuntimeException.TimedOut(
                            name, action, id, "no answer within " + timeout + ", killed" + logged);
                }
            } catch (InterruptedException e) {
                destroy(p);
                throw e;
            }
            return new Outcome(p.exitValue(), readIfExists(out), readIfExists(err), RuntimeLog.lastError(log));
        } catch (IOException e) {
            throw new OciRuntimeException(name, action, id, "run " + binary + ": " + e.getMessage(), -1, e);
        } finally {
            deleteRecursively(scratch);
        }
    }

    private List<String> argv(Path log, List<String> args) {
        List<String> argv = new ArrayList<>(
                List.of(binary.toString(), "--root", root.toString(), "--log", log.toString(), "--log-format", "json"));
        if (systemdCgroup) {
            argv.add("--systemd-cgroup");
        }
        argv.addAll(args);
        return argv;
    }

    private Path scratch(String action, String id) throws OciRuntimeException {
        try {
            return Files.createTempDirectory(tempDir, "stevedore-" + name + "-");
        } catch (IOException e) {
            throw new OciRuntimeException(name, action, id, "create scratch directory in " + tempDir + ": " + e, -1, e);
        }
    }

    /** Kills the runtime and whatever it started (for create: the container's init), then reaps it. */
    private static void destroy(java.lang.Process p) throws InterruptedException {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
    }

    private static String checkId(String id) {
        if (id == null || !ID.matcher(id).matches()) {
            throw new IllegalArgumentException("invalid container id \"" + id + "\"");
        }
        return id;
    }

    private static String abs(Path p) {
        return p.toAbsolutePath().toString();
    }

    private static String cut(String s) {
        String t = s.strip();
        return t.length() <= MAX_MESSAGE ? t : t.substring(0, MAX_MESSAGE) + "…";
    }

    private static String readIfExists(Path p) throws IOException {
        return Files.exists(p) ? Files.readString(p) : "";
    }

    private static void deleteRecursively(Path dir) {
        try (var files = Files.walk(dir)) {
            for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        } catch (IOException e) {
            // scratch files are small and under the temp dir; nothing to undo
        }
    }
}

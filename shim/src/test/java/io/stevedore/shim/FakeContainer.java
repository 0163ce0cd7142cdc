package io.stevedore.shim;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A container run by the real {@code stevedore-shim} with {@code fake-runtime.sh} as its OCI
 * runtime: the payload is a shell script started in the background, like runc's init, so no
 * root is needed. {@link #close()} kills what is left and reaps the shim.
 */
final class FakeContainer implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(10);

    final String id;
    final Path dir;
    final ShimSpec spec;
    private ShimStarted started;

    FakeContainer(Path dir, String id, String payload, boolean stdin) throws IOException {
        this.id = id;
        this.dir = dir;
        Path bundle = Files.createDirectories(dir.resolve("bundle"));
        Files.writeString(bundle.resolve("payload.sh"), payload);
        Path runtime = dir.resolve("fake-runtime.sh");
        try (InputStream in = FakeContainer.class.getResourceAsStream("fake-runtime.sh")) {
            Files.copy(in, runtime);
        }
        Files.setPosixFilePermissions(runtime, PosixFilePermissions.fromString("rwxr-xr-x"));
        spec = new ShimSpec(
                id,
                bundle,
                runtime,
                Files.createDirectories(dir.resolve("runtime-root")),
                dir.resolve("logs").resolve("0.log"),
                Files.createDirectories(dir.resolve("exits")),
                Files.createDirectories(dir.resolve("run")),
                dir.resolve("run").resolve("container.pid"),
                false,
                stdin);
        Files.createDirectories(spec.logPath().getParent());
    }

    static Path shimBinary() {
        return Path.of(System.getProperty("stevedore.native.dir", "target/native"), "stevedore-shim");
    }

    static ShimLauncher launcher() {
        return new ShimLauncher(shimBinary(), WAIT);
    }

    ShimStarted start() throws ShimException, InterruptedException {
        started = launcher().start(spec);
        return started;
    }

    Path bundle() {
        return spec.bundle();
    }

    List<String> logLines() throws IOException {
        return Files.exists(spec.logPath()) ? Files.readAllLines(spec.logPath()) : List.of();
    }

    List<CriLogLine> parsedLog() throws IOException {
        return logLines().stream().map(CriLogLine::parse).toList();
    }

    ExitStatus awaitExit() {
        return await().atMost(WAIT)
                .until(() -> ExitFile.read(spec.exitDir(), id), Optional::isPresent)
                .orElseThrow();
    }

    int shimPid() throws IOException {
        return Integer.parseInt(Files.readString(spec.shimPidFile()).strip());
    }

    void awaitShimGone() throws IOException {
        int pid = shimPid();
        await().atMost(WAIT).until(() -> Reaper.reaped(pid));
    }

    @Override
    public void close() throws IOException {
        if (started != null) ProcessHandle.of(started.pid()).ifPresent(ProcessHandle::destroyForcibly);
        if (Files.exists(spec.shimPidFile())) awaitShimGone();
    }
}

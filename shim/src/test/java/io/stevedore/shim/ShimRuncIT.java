package io.stevedore.shim;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shim with the real runc: create through the shim, {@code runc start} from the test (as
 * the daemon does), then the CRI log and the exit file. Needs root, runc and gcc (for the
 * static payload from {@code src/test/c/payload.c}).
 */
@Tag("root")
@EnabledIf("rootWithRunc")
class ShimRuncIT {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path tmp;

    private String id;
    private Path bundle;
    private ShimSpec spec;
    private ShimStarted started;

    static boolean rootWithRunc() {
        return onPath("runc").isPresent() && onPath("gcc").isPresent() && uid() == 0;
    }

    private static Optional<Path> onPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) return Optional.of(p);
        }
        return Optional.empty();
    }

    private static int uid() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .filter(l -> l.startsWith("Uid:"))
                    .map(l -> Integer.parseInt(l.split("\\s+")[1]))
                    .findFirst()
                    .orElse(-1);
        } catch (IOException e) {
            return -1;
        }
    }

    @BeforeAll
    static void subreaper() {
        Reaper.becomeSubreaper();
    }

    @BeforeEach
    void bundle() throws Exception {
        id = "stevedore-it-" + UUID.randomUUID().toString().substring(0, 8);
        bundle = Files.createDirectories(tmp.resolve("bundle"));
        Files.createDirectories(bundle.resolve("rootfs"));
        run(List.of(
                "gcc",
                "-static",
                "-O2",
                "-o",
                bundle.resolve("rootfs/payload").toString(),
                Path.of("src/test/c/payload.c").toAbsolutePath().toString()));
        run(List.of(runc(), "spec", "--bundle", bundle.toString()));
    }

    @AfterEach
    void cleanup() throws Exception {
        if (spec == null) return;
        runQuietly(List.of(runc(), "--root", spec.runtimeRoot().toString(), "delete", "--force", id));
        if (started != null) ProcessHandle.of(started.pid()).ifPresent(ProcessHandle::destroyForcibly);
        if (Files.exists(spec.shimPidFile())) {
            int shim = Integer.parseInt(Files.readString(spec.shimPidFile()).strip());
            await().atMost(WAIT).until(() -> Reaper.reaped(shim));
        }
        assertFalse(Files.exists(Path.of("/sys/fs/cgroup/memory", id)), "cgroup left behind");
        assertFalse(Files.exists(spec.runtimeRoot().resolve(id)), "runc state left behind");
    }

    private static String runc() {
        return onPath("runc").orElseThrow().toString();
    }

    /** Writes config.json: runc's default spec with our args, terminal and limits. */
    private void configure(boolean terminal, String memoryLimit, String... args) throws IOException {
        Path config = bundle.resolve("config.json");
        String s = Files.readString(config);
        List<String> quoted = new ArrayList<>();
        for (String a : args) quoted.add("\"" + a + "\"");
        s = s.replace("\"terminal\": true", "\"terminal\": " + terminal);
        s = s.replaceFirst(
                "\"args\": \\[\\s*\"sh\"\\s*]",
                Matcher.quoteReplacement("\"args\": [" + String.join(", ", quoted) + "]"));
        s = s.replaceFirst("\"linux\": \\{", Matcher.quoteReplacement("\"linux\": {\"cgroupsPath\": \"/" + id + "\","));
        if (memoryLimit != null) {
            s = s.replaceFirst("\"resources\": \\{", "\"resources\": {\"memory\": {\"limit\": " + memoryLimit + "},");
        }
        Files.writeString(config, s);
        spec = new ShimSpec(
                id,
                bundle,
                Path.of(runc()),
                Files.createDirectories(tmp.resolve("runc-root")),
                Files.createDirectories(tmp.resolve("logs")).resolve("0.log"),
                Files.createDirectories(tmp.resolve("exits")),
                Files.createDirectories(tmp.resolve("run")),
                tmp.resolve("run/container.pid"),
                terminal,
                false);
    }

    private void startContainer() throws Exception {
        started = new ShimLauncher(FakeContainer.shimBinary(), WAIT).start(spec);
        run(List.of(runc(), "--root", spec.runtimeRoot().toString(), "start", id));
    }

    private ExitStatus awaitExit() {
        return await().atMost(WAIT)
                .until(() -> ExitFile.read(spec.exitDir(), id), Optional::isPresent)
                .orElseThrow();
    }

    private List<CriLogLine> log() throws IOException {
        return Files.readAllLines(spec.logPath()).stream()
                .map(CriLogLine::parse)
                .toList();
    }

    @Test
    void runcContainer_printsAndExits3_criLogAndExitFile() throws Exception {
        configure(false, null, "/payload", "print", "3", "line one", "line two");

        startContainer();

        assertEquals(new ExitStatus(3, false), awaitExit());
        List<CriLogLine> log = log();
        assertEquals(
                List.of("line one", "line two"),
                log.stream()
                        .filter(l -> l.stream() == StdStream.STDOUT && !l.partial())
                        .map(CriLogLine::text)
                        .toList());
        assertTrue(
                log.stream()
                        .anyMatch(
                                l -> l.stream() == StdStream.STDERR && l.text().equals("bye")),
                log.toString());
    }

    @Test
    void runcContainer_exceedsMemoryLimit_isReportedOomKilled() throws Exception {
        configure(false, "33554432", "/payload", "oom");

        startContainer();

        assertEquals(new ExitStatus(137, true), awaitExit());
    }

    @Test
    void runcContainer_withTerminal_resizeReachesThePty() throws Exception {
        configure(true, null, "/payload", "tty");
        started = new ShimLauncher(FakeContainer.shimBinary(), WAIT).start(spec);
        try (var ctl = ShimControl.connect(spec.controlSocket())) {
            ctl.resize(33, 99);
        }

        run(List.of(runc(), "--root", spec.runtimeRoot().toString(), "start", id));

        assertEquals(0, awaitExit().code());
        String out = String.join("", log().stream().map(CriLogLine::text).toList());
        assertTrue(out.contains("tty 1 33 99"), out);
    }

    private static void run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) throw new IOException(cmd + " failed: " + out);
    }

    private static void runQuietly(List<String> cmd) throws Exception {
        new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start()
                .waitFor();
    }
}

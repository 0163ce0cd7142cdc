package io.stevedore.oci.runtime;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.stevedore.oci.spec.Resources;
import io.stevedore.oci.spec.SpecJson;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RuncCliTest {
    private static final String STATE_JSON = """
      {
        "ociVersion": "1.0.2-dev",
        "id": "abc",
        "pid": 4242,
        "status": "running",
        "bundle": "/run/stevedore/abc",
        "rootfs": "/run/stevedore/abc/rootfs",
        "created": "2026-11-22T22:44:43.123456789Z",
        "owner": "",
        "annotations": {"io.stevedore.pod": "p1"}
      }
      """;

    @TempDir
    Path tmp;

    private FakeRuntime fake;
    private Path root;
    private Path scratch;
    private RuncCli runc;

    @BeforeEach
    void setUp() throws IOException {
        fake = FakeRuntime.in(Files.createDirectories(tmp.resolve("fake")));
        root = tmp.resolve("root");
        scratch = Files.createDirectories(tmp.resolve("scratch"));
        runc = new RuncCli(fake.binary.toString(), root, false).withTempDir(scratch);
    }

    @AfterEach
    void noScratchLeft() throws IOException {
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            try (Stream<Path> left = Files.list(scratch)) {
                assertEquals(List.of(), left.toList());
            }
        });
    }

    /** The recorded argv with the per-call log path checked and replaced by {@code LOG}. */
    private List<String> lastArgv() throws IOException {
        List<String> argv = new ArrayList<>(fake.lastCall());
        int i = argv.indexOf("--log");
        assertTrue(i > 0, argv.toString());
        Path log = Path.of(argv.get(i + 1));
        assertEquals(scratch, log.getParent().getParent(), argv.toString());
        assertEquals("log.json", log.getFileName().toString());
        argv.set(i + 1, "LOG");
        return argv;
    }

    private List<String> expected(String... command) {
        List<String> argv = new ArrayList<>(
                List.of(fake.binary.toString(), "--root", root.toString(), "--log", "LOG", "--log-format", "json"));
        argv.addAll(List.of(command));
        return argv;
    }

    @Test
    void start_success_passesRootAndJsonLog() throws Exception {
        runc.start("abc");

        assertEquals(expected("start", "abc"), lastArgv());
    }

    @Test
    void start_systemdCgroup_addsTheGlobalFlag() throws Exception {
        new RuncCli(fake.binary.toString(), root, true).withTempDir(scratch).start("abc");

        assertEquals(
                List.of(
                        fake.binary.toString(),
                        "--root",
                        root.toString(),
                        "--log",
                        "LOG",
                        "--log-format",
                        "json",
                        "--systemd-cgroup",
                        "start",
                        "abc"),
                lastArgv());
    }

    @Test
    void start_failureInJsonLog_messageNamesActionIdAndRuntimeText() throws Exception {
        fake.on("start", """
        echo '{"level":"warning","msg":"ignored","time":"t"}' >> "$log"
        echo '{"level":"error","msg":"first","time":"t"}' >> "$log"
        echo 'not json' >> "$log"
        echo '{"level":"error","msg":"cannot start a container that has stopped","time":"t"}' >> "$log"
        echo 'something else on stderr' >&2
        exit 1
        """);

        var e = assertThrows(OciRuntimeException.class, () -> runc.start("abc"));

        assertEquals("runc start \"abc\" failed: cannot start a container that has stopped", e.getMessage());
        assertEquals("start", e.action());
        assertEquals(Optional.of("abc"), e.containerId());
        assertEquals(1, e.exitCode().orElseThrow());
    }

    @Test
    void start_failureOnlyOnStderr_usesStderr() throws Exception {
        fake.on("start", "echo 'boom: it broke' >&2; exit 2");

        var e = assertThrows(OciRuntimeException.class, () -> runc.start("abc"));

        assertEquals("runc start \"abc\" failed: boom: it broke", e.getMessage());
        assertEquals(2, e.exitCode().orElseThrow());
    }

    @Test
    void start_silentFailure_reportsExitStatus() throws Exception {
        fake.on("start", "exit 3");

        var e = assertThrows(OciRuntimeException.class, () -> runc.start("abc"));

        assertEquals("runc start \"abc\" failed: exit status 3", e.getMessage());
    }

    @Test
    void create_runcPrefixedMessage_isNotRepeated() throws Exception {
        fake.failing("create", "runc create failed: unable to start container process: exec: /x: no such file");

        var e = assertThrows(
                OciRuntimeException.class,
                () -> runc.create(
                        "abc", tmp.resolve("bundle"), tmp.resolve("pid"), Optional.empty(), ContainerIo.none()));

        assertEquals(
                "runc create \"abc\" failed: unable to start container process: exec: /x: no such file",
                e.getMessage());
    }

    @Test
    void create_withConsoleSocket_exactArgvAndContainerIoIsTheRuntimes() throws Exception {
        fake.on("create", "echo to-stdout; echo to-stderr >&2");
        Path out = tmp.resolve("out");
        Path err = tmp.resolve("err");

        runc.create(
                "abc",
                tmp.resolve("bundle"),
                tmp.resolve("init.pid"),
                Optional.of(tmp.resolve("console.sock")),
                ContainerIo.toFiles(out, err));

        assertEquals(
                expected(
                        "create",
                        "--bundle",
                        tmp.resolve("bundle").toString(),
                        "--pid-file",
                        tmp.resolve("init.pid").toString(),
                        "--console-socket",
                        tmp.resolve("console.sock").toString(),
                        "abc"),
                lastArgv());
        assertEquals("to-stdout\n", Files.readString(out));
        assertEquals("to-stderr\n", Files.readString(err));
    }

    @Test
    void state_running_isParsed() throws Exception {
        fake.on("state", "cat <<'J'\n" + STATE_JSON + "J\n");

        OciState s = runc.state("abc").orElseThrow();

        assertEquals(expected("state", "abc"), lastArgv());
        assertEquals(
                new OciState(
                        "1.0.2-dev",
                        "abc",
                        OciState.Status.RUNNING,
                        4242,
                        Path.of("/run/stevedore/abc"),
                        Path.of("/run/stevedore/abc/rootfs"),
                        Instant.parse("2026-11-22T22:44:43.123456789Z"),
                        Map.of("io.stevedore.pod", "p1")),
                s);
    }

    @Test
    void state_missingContainer_isEmpty() throws Exception {
        fake.failing("state", "container does not exist");

        assertEquals(Optional.empty(), runc.state("abc"));
    }

    @Test
    void state_crunStyleMissingContainer_isEmpty() throws Exception {
        fake.on("state", "echo \"error opening file '$dir/root/abc/status': No such file or directory\" >&2; exit 1");

        assertEquals(Optional.empty(), runc.state("abc"));
    }

    @Test
    void state_garbageOutput_isAnErrorNamingTheOutput() throws Exception {
        fake.on("state", "echo 'not json at all'");

        var e = assertThrows(OciRuntimeException.class, () -> runc.state("abc"));

        assertTrue(e.getMessage().startsWith("runc state \"abc\" failed: unexpected output: not json"), e.getMessage());
    }

    @Test
    void delete_missingContainer_succeeds() throws Exception {
        fake.failing("delete", "container does not exist");

        runc.delete("abc", false);

        assertEquals(expected("delete", "abc"), lastArgv());
    }

    @Test
    void delete_force_passesForce() throws Exception {
        runc.delete("abc", true);

        assertEquals(expected("delete", "--force", "abc"), lastArgv());
    }

    @Test
    void delete_otherFailure_isThrown() throws Exception {
        fake.failing("delete", "cannot delete container abc that is not stopped: running");

        var e = assertThrows(OciRuntimeException.class, () -> runc.delete("abc", false));

        assertEquals(
                "runc delete \"abc\" failed: cannot delete container abc that is not stopped: running", e.getMessage());
    }

    @Test
    void kill_all_exactArgv() throws Exception {
        runc.kill("abc", 9, true);

        assertEquals(expected("kill", "--all", "abc", "9"), lastArgv());
    }

    @Test
    void kill_stoppedContainer_isNotRunning() throws Exception {
        fake.failing("kill", "container not running");

        var e = assertThrows(OciRuntimeException.class, () -> runc.kill("abc", 15, false));

        assertInstanceOf(OciRuntimeException.NotRunning.class, e);
        assertEquals(expected("kill", "abc", "15"), lastArgv());
    }

    @Test
    void kill_missingContainer_isNotFound() throws Exception {
        fake.failing("kill", "container does not exist");

        assertThrows(OciRuntimeException.NotFound.class, () -> runc.kill("abc", 15, false));
    }

    @Test
    void pauseAndResume_exactArgv() throws Exception {
        runc.pause("abc");
        assertEquals(expected("pause", "abc"), lastArgv());

        runc.resume("abc");
        assertEquals(expected("resume", "abc"), lastArgv());
    }

    @Test
    void update_sendsResourcesJsonOnStdin() throws Exception {
        fake.on("update", "cat > \"$dir/stdin\"");
        Resources resources =
                Resources.EMPTY.withMemory(Resources.Memory.ofLimit(1 << 20)).withPids(new Resources.Pids(10L));

        runc.update("abc", resources);

        assertEquals(expected("update", "--resources", "-", "abc"), lastArgv());
        var json = new ObjectMapper();
        assertEquals(
                json.readTree("{\"memory\":{\"limit\":1048576},\"pids\":{\"limit\":10}}"),
                json.readTree(fake.dir.resolve("stdin").toFile()));
        assertEquals(resources, SpecJson.read(fake.dir.resolve("stdin"), Resources.class));
    }

    @Test
    void execDetached_exactArgv() throws Exception {
        runc.execDetached(
                "abc", tmp.resolve("process.json"), tmp.resolve("exec.pid"), Optional.empty(), ContainerIo.none());

        assertEquals(
                expected(
                        "exec",
                        "--process",
                        tmp.resolve("process.json").toString(),
                        "--pid-file",
                        tmp.resolve("exec.pid").toString(),
                        "--detach",
                        "abc"),
                lastArgv());
    }

    @Test
    void exec_foreground_returnsTheRuntimeProcessWithItsStdioAndExitCode() throws Exception {
        fake.on("exec", "read line; echo \"got $line\"; exit 7");

        java.lang.Process p = runc.exec("abc", tmp.resolve("process.json"), tmp.resolve("exec.pid"), Optional.empty());
        p.getOutputStream().write("hello\n".getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();

        assertEquals("got hello\n", new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        assertEquals(7, p.exitValue());
        assertEquals(
                expected(
                        "exec",
                        "--process",
                        tmp.resolve("process.json").toString(),
                        "--pid-file",
                        tmp.resolve("exec.pid").toString(),
                        "abc"),
                lastArgv());
    }

    @Test
    void list_null_isEmpty() throws Exception {
        fake.on("list", "echo null");

        assertEquals(List.of(), runc.list());
        assertEquals(expected("list", "--format", "json"), lastArgv());
    }

    @Test
    void list_containers_areParsed() throws Exception {
        fake.on("list", """
        echo '[{"ociVersion":"1.0.2-dev","id":"a","pid":0,"status":"stopped","bundle":"/b/a","rootfs":"/b/a/rootfs",\
        "created":"2026-11-22T22:44:43Z","owner":""},{"ociVersion":"1.0.2-dev","id":"b","pid":7,"status":"paused",\
        "bundle":"/b/b","rootfs":"/b/b/rootfs","created":"2026-11-22T22:44:44Z","owner":""}]'
        """);

        List<OciState> states = runc.list();

        assertEquals(List.of("a", "b"), states.stream().map(OciState::id).toList());
        assertEquals(
                List.of(OciState.Status.STOPPED, OciState.Status.PAUSED),
                states.stream().map(OciState::status).toList());
    }

    @Test
    void features_supported_isParsed() throws Exception {
        fake.on("features", """
        echo '{"ociVersionMin":"1.0.0","ociVersionMax":"1.1.0","hooks":["prestart"],"mountOptions":["ro","rbind"]}'
        """);

        OciFeatures f = runc.features().orElseThrow();

        assertEquals("1.1.0", f.ociVersionMax());
        assertEquals(List.of("ro", "rbind"), f.mountOptions());
    }

    @Test
    void features_oldRuncWithoutTheCommand_isEmpty() throws Exception {
        fake.on("features", "echo \"No help topic for 'features'\" >&2; exit 3");

        assertEquals(Optional.empty(), runc.features());
    }

    @Test
    void hungRuntime_isKilledAfterTheTimeout() throws Exception {
        fake.on("start", "echo $$ > \"$dir/pid.tmp\"; mv \"$dir/pid.tmp\" \"$dir/pid\"; exec sleep 1000");
        RuncCli quick = runc.withTimeout(Duration.ofSeconds(2));

        var e = assertThrows(OciRuntimeException.TimedOut.class, () -> quick.start("abc"));

        assertTrue(
                e.getMessage().startsWith("runc start \"abc\" failed: no answer within PT2S, killed"), e.getMessage());
        assertTrue(e.exitCode().isEmpty());
        long pid = Long.parseLong(Files.readString(fake.dir.resolve("pid")).strip());
        await().atMost(Duration.ofSeconds(10))
                .until(() -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), alive -> !alive);
    }

    @Test
    void interruptedCaller_killsTheRuntimeAndIsInterrupted() throws Exception {
        fake.on("start", "echo $$ > \"$dir/pid.tmp\"; mv \"$dir/pid.tmp\" \"$dir/pid\"; exec sleep 1000");
        var thrown = new java.util.concurrent.CompletableFuture<Throwable>();
        Thread caller = Thread.ofVirtual().start(() -> {
            try {
                runc.start("abc");
                thrown.complete(null);
            } catch (Throwable t) {
                thrown.complete(t);
            }
        });
        Path pidFile = fake.dir.resolve("pid");
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(pidFile));
        long pid = Long.parseLong(Files.readString(pidFile).strip());

        caller.interrupt();

        assertInstanceOf(InterruptedException.class, thrown.get(10, TimeUnit.SECONDS));
        await().atMost(Duration.ofSeconds(10))
                .until(() -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), alive -> !alive);
    }

    @Test
    void concurrentFailures_eachReportItsOwnLog() throws Exception {
        fake.on("start", """
        printf '{"level":"error","msg":"start of %s failed","time":"t"}\\n' "$id" >> "$log"
        exit 1
        """);
        List<Callable<String>> calls = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            String id = "c" + i;
            calls.add(() -> assertThrows(OciRuntimeException.class, () -> runc.start(id))
                    .runtimeMessage());
        }

        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<String>> results = pool.invokeAll(calls);
            for (int i = 0; i < results.size(); i++) {
                assertEquals("start of c" + i + " failed", results.get(i).get());
            }
        }
    }

    @Test
    void invalidId_isRejectedBeforeRunning() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> runc.start("--help"));
        assertThrows(IllegalArgumentException.class, () -> runc.delete("../x", true));
        assertEquals(List.of(), fake.calls());
    }

    @Test
    void constructor_missingBinary_isClearError() {
        var onPath =
                assertThrows(FileNotFoundException.class, () -> new RuncCli("no-such-runtime-stevedore", root, false));
        assertTrue(
                onPath.getMessage().contains("\"no-such-runtime-stevedore\" not found on PATH"), onPath.getMessage());

        var absolute = assertThrows(
                FileNotFoundException.class,
                () -> new RuncCli(tmp.resolve("nope").toString(), root, false));
        assertTrue(absolute.getMessage().contains(tmp.resolve("nope") + " is not an executable file"));
    }

    @Test
    void constructor_bareName_isLookedUpOnPath() throws Exception {
        RuncCli sh = new RuncCli("sh", root, false);

        assertTrue(sh.binary().isAbsolute());
        assertFalse(sh.binary().toString().equals("sh"));
    }
}

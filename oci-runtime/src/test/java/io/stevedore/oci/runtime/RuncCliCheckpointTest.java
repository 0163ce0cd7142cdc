package io.stevedore.oci.runtime;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code runc checkpoint}: the command line, the CRIU it finds, its own timeout and its failures. */
class RuncCliCheckpointTest {
    @TempDir
    Path tmp;

    private FakeRuntime fake;
    private RuncCli runc;
    private CheckpointOptions opts;

    @BeforeEach
    void setUp() throws IOException {
        fake = FakeRuntime.in(Files.createDirectories(tmp.resolve("fake")));
        runc = new RuncCli(fake.binary.toString(), tmp.resolve("root"), false)
                .withTempDir(Files.createDirectories(tmp.resolve("scratch")));
        opts = new CheckpointOptions(tmp.resolve("images"), tmp.resolve("work"), true, Duration.ofSeconds(30));
    }

    private List<String> command() throws IOException {
        List<String> argv = fake.lastCall();
        return argv.subList(argv.indexOf("checkpoint"), argv.size());
    }

    @Test
    void checkpoint_leaveRunning_exactCommand() throws Exception {
        runc.checkpoint("abc", opts);

        assertEquals(
                List.of(
                        "checkpoint",
                        "--image-path",
                        tmp.resolve("images").toString(),
                        "--work-path",
                        tmp.resolve("work").toString(),
                        "--leave-running",
                        "abc"),
                command());
    }

    @Test
    void checkpoint_notLeaveRunning_omitsTheFlag() throws Exception {
        runc.checkpoint("abc", new CheckpointOptions(opts.imagePath(), opts.workPath(), false, opts.timeout()));

        assertEquals(List.of("checkpoint", "--image-path"), command().subList(0, 2));
        assertTrue(!command().contains("--leave-running"), command().toString());
    }

    @Test
    void checkpoint_withCriu_putsItsDirectoryFirstOnTheRuntimesPath() throws Exception {
        fake.on("checkpoint", "echo \"$PATH\" > \"$dir/path\"");
        Path criu = Files.createDirectories(tmp.resolve("criu-bin")).resolve("criu");

        runc.withCriu(criu).checkpoint("abc", opts);

        String path = Files.readString(fake.dir.resolve("path")).strip();
        assertTrue(path.startsWith(criu.getParent() + ":"), path);
    }

    @Test
    void checkpoint_withoutCriu_keepsTheDaemonsPath() throws Exception {
        fake.on("checkpoint", "echo \"$PATH\" > \"$dir/path\"");

        runc.checkpoint("abc", opts);

        assertEquals(
                System.getenv("PATH"),
                Files.readString(fake.dir.resolve("path")).strip());
    }

    @Test
    void withCriu_otherName_isRejected() {
        assertThrows(IllegalArgumentException.class, () -> runc.withCriu(tmp.resolve("criu-4.1")));
    }

    @Test
    void checkpoint_criuFailure_carriesTheRuntimesMessage() throws Exception {
        fake.failing("checkpoint", "criu failed: type NOTIFY errno 0");

        var e = assertThrows(OciRuntimeException.class, () -> runc.checkpoint("abc", opts));

        assertEquals("runc checkpoint \"abc\" failed: criu failed: type NOTIFY errno 0", e.getMessage());
    }

    @Test
    void checkpoint_missingContainer_isNotFound() throws Exception {
        fake.failing("checkpoint", "container does not exist");

        assertThrows(OciRuntimeException.NotFound.class, () -> runc.checkpoint("abc", opts));
    }

    @Test
    void checkpoint_overItsOwnTimeout_killsTheRuntimeAndCriu() throws Exception {
        // the runtime's child stands for CRIU: both must be gone after the timeout
        fake.on("checkpoint", """
        sleep 1000 & echo $! > "$dir/child.tmp"; mv "$dir/child.tmp" "$dir/child"
        wait
        """);
        var quick = new CheckpointOptions(opts.imagePath(), opts.workPath(), true, Duration.ofSeconds(2));

        var e = assertThrows(OciRuntimeException.TimedOut.class, () -> runc.checkpoint("abc", quick));

        assertTrue(e.getMessage().contains("no answer within PT2S, killed"), e.getMessage());
        long child = Long.parseLong(Files.readString(fake.dir.resolve("child")).strip());
        await().atMost(Duration.ofSeconds(10))
                .until(() -> ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false), alive -> !alive);
    }

    @Test
    void checkpointOptions_nonPositiveTimeout_isRejected() {
        assertThrows(IllegalArgumentException.class, () -> new CheckpointOptions(tmp, tmp, true, Duration.ZERO));
    }
}

package io.stevedore.shim;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real {@code stevedore-shim} binary, driven with a fake runtime; no root needed. */
class ShimFakeRuntimeTest {
    @TempDir
    Path tmp;

    private FakeContainer ctr;

    @BeforeAll
    static void subreaper() {
        Reaper.becomeSubreaper();
    }

    @AfterEach
    void cleanup() throws IOException {
        if (ctr != null) ctr.close();
    }

    private FakeContainer container(String payload) throws IOException {
        return container(payload, false);
    }

    private FakeContainer container(String payload, boolean stdin) throws IOException {
        ctr = new FakeContainer(tmp, "ctr-1", payload, stdin);
        return ctr;
    }

    @Test
    void start_payloadExits3_reportsPidWritesCriLogAndExitFile() throws Exception {
        var c = container("echo hello\necho oops >&2\nexit 3\n");

        ShimStarted started = c.start();
        ExitStatus exit = c.awaitExit();

        assertTrue(started.pid() > 0);
        assertEquals(new ExitStatus(3, false), exit);
        c.awaitShimGone();
        List<CriLogLine> log = c.parsedLog();
        assertTrue(hasLine(log, StdStream.STDOUT, "hello"), log.toString());
        assertTrue(hasLine(log, StdStream.STDERR, "oops"), log.toString());
        assertEquals(2, log.size(), log.toString());
        for (String line : c.logLines()) {
            assertTrue(line.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z std(out|err) [PF] .*"), line);
        }
        assertEquals(
                List.of(
                        "--root",
                        c.spec.runtimeRoot().toString(),
                        "create",
                        "--bundle",
                        c.bundle().toString(),
                        "--pid-file",
                        c.spec.pidFile().toString(),
                        "ctr-1"),
                Files.readAllLines(c.bundle().resolve("argv")));
        assertFalse(Files.exists(c.spec.controlSocket()), "control socket removed at exit");
        assertFalse(Files.exists(c.spec.attachSocket()), "attach socket removed at exit");
        assertFalse(Files.exists(ExitFile.oomMarker(c.spec.exitDir(), "ctr-1")));
    }

    private static boolean hasLine(List<CriLogLine> log, StdStream s, String text) {
        return log.stream()
                .anyMatch(l -> l.stream() == s && !l.partial() && l.text().equals(text));
    }

    @Test
    void start_oneMegabyteLine_isSplitIntoPartialLinesOfAtMost16KiB() throws Exception {
        var c = container("head -c 1048576 /dev/zero | tr '\\0' x\necho\n");

        c.start();
        assertEquals(0, c.awaitExit().code());
        c.awaitShimGone();

        List<CriLogLine> log = c.parsedLog();
        assertTrue(log.size() >= 64, "1 MiB in chunks of at most 16 KiB: " + log.size());
        StringBuilder joined = new StringBuilder();
        for (int i = 0; i < log.size(); i++) {
            CriLogLine l = log.get(i);
            assertEquals(StdStream.STDOUT, l.stream());
            assertTrue(
                    l.text().length() <= 16384, "line " + i + " is " + l.text().length() + " bytes");
            assertEquals(i < log.size() - 1, l.partial(), "only the last line is F");
            joined.append(l.text());
        }
        assertEquals("x".repeat(1 << 20), joined.toString());
    }

    @Test
    void start_partialLineAtEof_isWrittenAsPartial() throws Exception {
        var c = container("echo first\nprintf 'no newline'\n");

        c.start();
        c.awaitExit();
        c.awaitShimGone();

        List<CriLogLine> log = c.parsedLog();
        CriLogLine last = log.getLast();
        assertTrue(last.partial(), log.toString());
        assertEquals("no newline", last.text());
        assertTrue(hasLine(log, StdStream.STDOUT, "first"));
    }

    @Test
    void start_payloadKilledBySignal_exitCodeIs128PlusSignal() throws Exception {
        var c = container("kill -9 $$\n");

        c.start();

        assertEquals(new ExitStatus(137, false), c.awaitExit());
    }

    @Test
    void start_runtimeFails_throwsShimExceptionWithRuntimeMessage() throws Exception {
        var c = container("exit 0\n");
        String message = "container_linux.go:380: starting container process caused: exec: \"nope\": not found";
        Files.writeString(c.bundle().resolve("fail"), message + "\n");

        var e = assertThrows(ShimException.class, c::start);

        assertEquals(Optional.of(message), e.runtimeMessage());
        assertTrue(e.getMessage().contains("ctr-1") && e.getMessage().contains(message), e.getMessage());
        c.awaitShimGone();
        assertEquals(Optional.empty(), ExitFile.read(c.spec.exitDir(), "ctr-1"));
        assertFalse(Files.exists(c.spec.controlSocket()));
        assertTrue(Files.readString(c.spec.shimLog()).contains(message), "the shim logs the failure in its own log");
        assertEquals(List.of(), c.logLines(), "runtime errors never reach the container log");
    }

    @Test
    void start_runtimeBinaryMissing_throwsShimExceptionNamingIt() throws Exception {
        var c = container("exit 0\n");
        var spec = c.spec;
        Path missing = tmp.resolve("no-such-runtime");
        var broken = new ShimSpec(
                spec.containerId(),
                spec.bundle(),
                missing,
                spec.runtimeRoot(),
                spec.logPath(),
                spec.exitDir(),
                spec.socketDir(),
                spec.pidFile(),
                false,
                false);

        var e = assertThrows(ShimException.class, () -> FakeContainer.launcher().start(broken));

        assertTrue(e.runtimeMessage().orElseThrow().contains(missing.toString()), e.getMessage());
        c.awaitShimGone();
    }

    @Test
    void reopenLog_afterRotation_writesLaterOutputToNewFile() throws Exception {
        var c = container("echo before\nwhile [ ! -e \"$0.go\" ]; do sleep 0.02; done\necho after\n");
        c.start();
        await().atMost(FakeContainer.WAIT).until(() -> c.logLines().size() == 1);
        Path rotated = c.spec.logPath().resolveSibling("0.log.1");
        Files.move(c.spec.logPath(), rotated);

        try (var ctl = ShimControl.connect(c.spec.controlSocket())) {
            ctl.reopenLog();
        }
        Files.createFile(c.bundle().resolve("payload.sh.go"));
        c.awaitExit();

        assertTrue(Files.readString(rotated).endsWith(" stdout F before\n"), Files.readString(rotated));
        assertEquals(1, c.logLines().size());
        assertTrue(
                c.logLines().getFirst().endsWith(" stdout F after"),
                c.logLines().toString());
    }

    @Test
    void control_resizeWithoutTerminalOrUnknownRequest_isRefusedAndConnectionStaysUsable() throws Exception {
        var c = container("while [ ! -e \"$0.go\" ]; do sleep 0.02; done\n");
        c.start();

        try (var ctl = ShimControl.connect(c.spec.controlSocket())) {
            var e = assertThrows(ShimException.class, () -> ctl.resize(24, 80));
            assertTrue(e.getMessage().contains("no terminal"), e.getMessage());
            ctl.reopenLog();
        }
        Files.createFile(c.bundle().resolve("payload.sh.go"));
        assertEquals(0, c.awaitExit().code());
    }

    @Test
    void runningShim_residentSetIsUnderOneMegabyte() throws Exception {
        var c = container("while [ ! -e \"$0.go\" ]; do sleep 0.02; done\n");
        c.start();

        long rssKb = Files.readAllLines(Path.of("/proc/" + c.shimPid() + "/status")).stream()
                .filter(l -> l.startsWith("VmRSS:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", "")))
                .findFirst()
                .orElseThrow();
        Files.createFile(c.bundle().resolve("payload.sh.go"));
        c.awaitExit();

        assertTrue(rssKb < 1024, "shim RSS " + rssKb + " KiB");
    }

    @Test
    void runningShim_holdsNoneOfTheCallersStdio() throws Exception {
        var c = container("while [ ! -e \"$0.go\" ]; do sleep 0.02; done\n");
        c.start();

        Path fds = Path.of("/proc/" + c.shimPid() + "/fd");
        String stdin = Files.readSymbolicLink(fds.resolve("0")).toString();
        String stdout = Files.readSymbolicLink(fds.resolve("1")).toString();
        Path stderr = Files.readSymbolicLink(fds.resolve("2"));
        Files.createFile(c.bundle().resolve("payload.sh.go"));
        c.awaitExit();

        assertEquals("/dev/null", stdin);
        assertEquals("/dev/null", stdout);
        assertEquals(c.spec.shimLog(), stderr);
    }

    @Test
    void attach_forwardsStdinAndServesOutputUntilExit() throws Exception {
        var c = container("read line\necho \"got:$line\"\ncat >/dev/null\necho 'stdin closed' >&2\n", true);
        c.start();

        assertTimeoutPreemptively(FakeContainer.WAIT, () -> {
            try (var attach = ShimAttach.connect(c.spec.attachSocket())) {
                attach.writeStdin("hi\n".getBytes(StandardCharsets.UTF_8));
                assertEquals("got:hi\n", readUntil(attach, StdStream.STDOUT, "got:hi\n"));
                attach.closeStdin();
                assertEquals("stdin closed\n", readUntil(attach, StdStream.STDERR, "stdin closed\n"));
                while (attach.read().isPresent()) {
                    // drain until the shim closes the connection at exit
                }
            }
        });
        assertEquals(0, c.awaitExit().code());
        assertTrue(hasLine(c.parsedLog(), StdStream.STDOUT, "got:hi"));
    }

    private static String readUntil(ShimAttach attach, StdStream stream, String expected) throws IOException {
        var out = new ByteArrayOutputStream();
        while (!out.toString(StandardCharsets.UTF_8).endsWith(expected)) {
            ShimAttach.Frame f = attach.read().orElseThrow();
            if (f.stream() == stream) out.writeBytes(f.data());
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}

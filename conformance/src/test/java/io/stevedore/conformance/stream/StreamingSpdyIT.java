package io.stevedore.conformance.stream;

import static io.stevedore.conformance.stream.StreamingFixture.ECHO_PORT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.stevedore.conformance.RequiresRoot;
import io.stevedore.cri.v1.ContainerState;
import io.stevedore.cri.v1.ExecRequest;
import io.stevedore.cri.v1.PortForwardRequest;
import io.stevedore.cri.v1.RemoveContainerRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Exec, Attach and PortForward through the daemon's streaming server over SPDY/3.1, as kubectl
 * (client-go's SPDY executor and port forwarder) speaks them: every remotecommand protocol
 * version, port forwarding of 100 MiB each way, token rules, the CRI-level request errors, and
 * that a client that vanishes mid-exec leaves no process or file descriptor behind.
 */
@RequiresRoot
class StreamingSpdyIT {
    @RegisterExtension
    static final StreamingFixture f = new StreamingFixture("sdspdy0", "sdspdy", "10.124.0.");

    static final ObjectMapper JSON = new ObjectMapper();

    // ------------------------------------------------------------------ exec, each protocol version

    @ParameterizedTest
    @ValueSource(strings = {SpdyCommand.V4, SpdyCommand.V3, SpdyCommand.V2, SpdyCommand.V1})
    void exec_keepsStdoutAndStderrApart(String version) throws Exception {
        String url = f.execUrl(f.shell(), List.of("sh", "-c", "echo out; echo err >&2"), false, true, true, false);
        try (var c = SpdyCommand.open(url, version, false, true, true, false)) {
            assertEquals(version, c.protocol(), "negotiated X-Stream-Protocol-Version");
            var r = c.collect();
            assertEquals("out\n", r.stdout());
            assertEquals("err\n", r.stderr());
            assertSuccess(version, r.error());
        }
    }

    @Test
    void exec_negotiatesTheClientsFirstSupportedVersion() throws Exception {
        String url = f.execUrl(f.shell(), List.of("echo", "hi"), false, true, false, false);
        try (var c = SpdyCommand.open(
                url, List.of("v9.channel.k8s.io", SpdyCommand.V4, SpdyCommand.V3), false, true, false, false)) {
            assertEquals(SpdyCommand.V4, c.protocol());
            c.client().ping(); // spdystream answers PINGs; a kubectl keep-alive must not break the session
            assertEquals("hi\n", c.collect().stdout());
        }
    }

    @Test
    void exec_overAGetUpgrade_worksAsOverPost() throws Exception {
        String url = f.execUrl(f.shell(), List.of("echo", "via get"), false, true, false, false);
        try (var spdy = SpdyClient.connect(java.net.URI.create(url), "GET", List.of(SpdyCommand.V4))) {
            assertEquals(SpdyCommand.V4, spdy.protocol());
            var error = spdy.open(java.util.Map.of("streamtype", "error"));
            var stdout = spdy.open(java.util.Map.of("streamtype", "stdout"));
            assertEquals("via get\n", stdout.readAll());
            assertEquals(
                    "Success", JSON.readTree(error.readAll()).path("status").asText());
        }
    }

    @Test
    void exec_withNoCommonProtocolVersion_isRefused() throws Exception {
        String url = f.execUrl(f.shell(), List.of("true"), false, true, false, false);
        var e = assertThrows(
                UpgradeFailedException.class,
                () -> SpdyCommand.open(url, List.of("v9.channel.k8s.io"), false, true, false, false));
        assertEquals(403, e.status(), "httpstream.Handshake answers 403 when no version is common: " + e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {SpdyCommand.V4, SpdyCommand.V3, SpdyCommand.V2, SpdyCommand.V1})
    void exec_echoesStdinUntilItsFin(String version) throws Exception {
        var sb = new StringBuilder();
        for (int i = 0; sb.length() < 1 << 20; i++) {
            sb.append("line ").append(i).append(" of what cat must give back unchanged\n");
        }
        String input = sb.toString();
        String url = f.execUrl(f.shell(), List.of("cat"), true, true, true, false);
        try (var c = SpdyCommand.open(url, version, true, true, true, false)) {
            var collected = StreamingFixture.inBackground(c::collect);
            c.stdin().write(input.getBytes(StandardCharsets.UTF_8));
            c.closeStdin();
            var r = collected.get(2, TimeUnit.MINUTES);
            assertEquals(input.length(), r.stdout().length(), "all of stdin came back");
            assertEquals(input, r.stdout());
            assertEquals("", r.stderr());
            assertSuccess(version, r.error());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {SpdyCommand.V4, SpdyCommand.V3, SpdyCommand.V2, SpdyCommand.V1})
    void exec_nonZeroExit_isReportedOnTheErrorStream(String version) throws Exception {
        String url = f.execUrl(f.shell(), List.of("sh", "-c", "echo before; exit 3"), false, true, true, false);
        try (var c = SpdyCommand.open(url, version, false, true, true, false)) {
            var r = c.collect();
            assertEquals("before\n", r.stdout());
            if (version.equals(SpdyCommand.V4)) {
                JsonNode st = JSON.readTree(r.error());
                assertEquals("Failure", st.path("status").asText(), r.error());
                assertEquals("NonZeroExitCode", st.path("reason").asText(), r.error());
                JsonNode cause = st.path("details").path("causes").path(0);
                assertEquals("ExitCode", cause.path("reason").asText(), r.error());
                assertEquals("3", cause.path("message").asText(), r.error());
            } else {
                assumeTrue(
                        r.error() != null || !version.equals(SpdyCommand.V1),
                        "the server resets the v1 error stream, as kubelet 1.0 did");
                assertNotNull(r.error(), "error stream text");
                assertTrue(r.error().matches("(?s).*exit code.*\\b3\\b.*"), "error stream text: " + r.error());
            }
        }
    }

    // ------------------------------------------------------------------ tty

    @ParameterizedTest
    @ValueSource(strings = {SpdyCommand.V4, SpdyCommand.V3})
    void execTty_resizeReachesTheTerminal(String version) throws Exception {
        String url = f.execUrl(
                f.shell(),
                List.of("sh", "-c", "while read x; do /bin/busybox stty size; done"),
                true,
                true,
                false,
                true);
        try (var c = SpdyCommand.open(url, version, true, true, false, true)) {
            var out = new StreamingFixture.Collector(c.stdout());
            c.resize(100, 40);
            await("stty sees 40 rows, 100 columns")
                    .atMost(Duration.ofSeconds(20))
                    .pollInterval(Duration.ofMillis(200))
                    .untilAsserted(() -> {
                        c.stdin().write("\n".getBytes(StandardCharsets.US_ASCII));
                        assertTrue(out.text().contains("40 100"), out.text());
                    });
            c.resize(123, 51);
            await("stty sees the second size")
                    .atMost(Duration.ofSeconds(20))
                    .pollInterval(Duration.ofMillis(200))
                    .untilAsserted(() -> {
                        c.stdin().write("\n".getBytes(StandardCharsets.US_ASCII));
                        assertTrue(out.text().contains("51 123"), out.text());
                    });
            assertFalse(out.text().contains("\n0 0"), "no zero size seen after a resize: " + out.text());
        }
    }

    // ------------------------------------------------------------------ attach

    @Test
    void attach_twoClientsAtOnce_bothSeeLiveOutput_andTheContainerOutlivesThem() throws Exception {
        var a = SpdyCommand.open(
                f.attachUrl(f.ticker(), false, true, true, false), SpdyCommand.V4, false, true, true, false);
        var b = SpdyCommand.open(
                f.attachUrl(f.ticker(), false, true, true, false), SpdyCommand.V4, false, true, true, false);
        try {
            var outA = new StreamingFixture.Collector(a.stdout());
            var outB = new StreamingFixture.Collector(b.stdout());
            await("both attached clients see the same new ticks")
                    .atMost(Duration.ofSeconds(20))
                    .untilAsserted(() -> {
                        var ticksA = ticks(outA.text());
                        var ticksB = ticks(outB.text());
                        ticksA.retainAll(ticksB);
                        assertTrue(
                                ticksA.size() >= 3,
                                "common ticks: " + ticksA + "\nA: " + outA.text() + "\nB: " + outB.text());
                    });
        } finally {
            a.close();
            b.close();
        }
        assertEquals(ContainerState.CONTAINER_RUNNING, f.state(f.ticker()), "detaching does not stop the container");
        try (var c = SpdyCommand.open(
                f.attachUrl(f.ticker(), false, true, false, false), SpdyCommand.V4, false, true, false, false)) {
            var out = new StreamingFixture.Collector(c.stdout());
            await("a later attach still sees ticks")
                    .atMost(Duration.ofSeconds(20))
                    .untilAsserted(() -> assertTrue(ticks(out.text()).size() >= 2, out.text()));
        }
        assertEquals(ContainerState.CONTAINER_RUNNING, f.state(f.ticker()));
    }

    @Test
    void attach_stdinOnce_inputReachesTheContainer_andItsStdinEndsWithTheFirstAttacher() throws Exception {
        String id = f.create("once", List.of("cat"), b -> b.setStdin(true).setStdinOnce(true));
        f.start(id);
        try (var a =
                SpdyCommand.open(f.attachUrl(id, true, true, false, false), SpdyCommand.V4, true, true, false, false)) {
            var out = new StreamingFixture.Collector(a.stdout());
            a.stdin().write("through the shim\n".getBytes(StandardCharsets.UTF_8));
            a.stdin().flush();
            await("the container's cat echoes our input")
                    .atMost(Duration.ofSeconds(20))
                    .untilAsserted(() -> assertEquals("through the shim\n", out.text()));
            a.closeStdin();
            await("stdin_once: the container's stdin ended with our input, so cat exited")
                    .atMost(Duration.ofSeconds(20))
                    .untilAsserted(() -> assertEquals(ContainerState.CONTAINER_EXITED, f.state(id)));
        }
    }

    static List<Integer> ticks(String text) {
        var out = new ArrayList<Integer>();
        for (String l : text.split("\n")) {
            if (l.matches("tick \\d+")) {
                out.add(Integer.parseInt(l.substring(5)));
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ port forward

    @Test
    void portForward_hundredMebibytesEachWay_arriveIntact() throws Exception {
        try (var pf = SpdyPortForward.open(f.portForwardUrl(ECHO_PORT))) {
            assertEquals(SpdyPortForward.PROTOCOL, pf.client().protocol());
            StreamingFixture.assertHundredMebibytesEachWay(pf);
        }
    }

    @Test
    void portForward_closedPort_reportsAnError_andTheSessionStillServesTheOpenPort() throws Exception {
        try (var pf = SpdyPortForward.open(f.portForwardUrl(ECHO_PORT))) {
            StreamingFixture.assertClosedPortThenOpenPort(pf);
        }
    }

    // ------------------------------------------------------------------ load

    @Test
    void exec_hundredAtOnce_eachGetsItsOwnOutput() throws Exception {
        f.assertHundredExecsAtOnce(url -> SpdyCommand.open(url, SpdyCommand.V4, false, true, true, false), error -> {
            try {
                assertSuccess(SpdyCommand.V4, error);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
    }

    // ------------------------------------------------------------------ tokens

    @Test
    void token_usedTwice_isNotFound() throws Exception {
        String url = f.execUrl(f.shell(), List.of("true"), false, true, false, false);
        try (var c = SpdyCommand.open(url, SpdyCommand.V4, false, true, false, false)) {
            c.collect();
        }
        var e = assertThrows(
                UpgradeFailedException.class, () -> SpdyCommand.open(url, SpdyCommand.V4, false, true, false, false));
        assertEquals(404, e.status(), e.getMessage());

        String pfUrl = f.portForwardUrl(ECHO_PORT);
        SpdyPortForward.open(pfUrl).close();
        var e2 = assertThrows(UpgradeFailedException.class, () -> SpdyPortForward.open(pfUrl));
        assertEquals(404, e2.status(), e2.getMessage());

        String atUrl = f.attachUrl(f.ticker(), false, true, false, false);
        SpdyCommand.open(atUrl, SpdyCommand.V4, false, true, false, false).close();
        var e3 = assertThrows(
                UpgradeFailedException.class, () -> SpdyCommand.open(atUrl, SpdyCommand.V4, false, true, false, false));
        assertEquals(404, e3.status(), e3.getMessage());
    }

    @Test
    void token_forged_isNotFound() throws Exception {
        String url = f.execUrl(f.shell(), List.of("true"), false, true, false, false);
        for (String forged : List.of(
                StreamingFixture.forged(url),
                StreamingFixture.forged(f.portForwardUrl(ECHO_PORT)),
                StreamingFixture.forged(f.attachUrl(f.ticker(), false, true, false, false)))) {
            var e = assertThrows(
                    UpgradeFailedException.class,
                    () -> SpdyCommand.open(forged, SpdyCommand.V4, false, true, false, false),
                    forged);
            assertEquals(404, e.status(), e.getMessage());
        }
    }

    // ------------------------------------------------------------------ a client that vanishes

    @Test
    void exec_clientDisconnectsMidRun_leavesNoProcessNorFd() throws Exception {
        disconnectMidRun("1771"); // warm-up: whatever the first such exec opens for good
        long fds = f.daemonFds();
        disconnectMidRun("1772");
        await("daemon fds back to " + fds)
                .atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(200))
                .untilAsserted(
                        () -> assertTrue(f.daemonFds() <= fds, "daemon has " + f.daemonFds() + " fds, had " + fds));
    }

    private void disconnectMidRun(String seconds) throws Exception {
        var argv = List.of("sleep", seconds);
        String url = f.execUrl(f.shell(), argv, false, true, true, false);
        var c = SpdyCommand.open(url, SpdyCommand.V4, false, true, true, false);
        await("exec'd sleep runs")
                .atMost(Duration.ofSeconds(20))
                .until(() -> !StreamingFixture.processesWithArgv(argv).isEmpty());
        c.abort();
        await("exec'd sleep is gone")
                .atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertEquals(List.of(), StreamingFixture.processesWithArgv(argv)));
        await("no runc exec left")
                .atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertEquals(
                        List.of(),
                        StreamingFixture.processes(
                                a -> a.stream().anyMatch(x -> x.endsWith("runc")) && a.contains("exec"))));
    }

    // ------------------------------------------------------------------ request errors (gRPC)

    @Test
    void execRequest_errors() {
        assertCode(
                Status.Code.NOT_FOUND,
                () -> f.rt().exec(ExecRequest.newBuilder()
                        .setContainerId("f".repeat(64))
                        .addCmd("true")
                        .setStdout(true)
                        .build()));
        assertCode(
                Status.Code.INVALID_ARGUMENT,
                () -> f.rt().exec(ExecRequest.newBuilder()
                        .setContainerId(f.shell())
                        .addCmd("true")
                        .setStdout(true)
                        .setStderr(true)
                        .setTty(true)
                        .build()));
        assertCode(
                Status.Code.INVALID_ARGUMENT,
                () -> f.rt().exec(ExecRequest.newBuilder()
                        .setContainerId(f.shell())
                        .addCmd("true")
                        .build()));
        assertCode(
                Status.Code.NOT_FOUND,
                () -> f.rt().portForward(PortForwardRequest.newBuilder()
                        .setPodSandboxId("e".repeat(64))
                        .addPort(80)
                        .build()));
        String created = f.create("created", List.of("sleep", "100"), b -> {});
        try {
            assertCode(
                    Status.Code.FAILED_PRECONDITION,
                    () -> f.rt().exec(ExecRequest.newBuilder()
                            .setContainerId(created)
                            .addCmd("true")
                            .setStdout(true)
                            .build()));
        } finally {
            f.rt().removeContainer(RemoveContainerRequest.newBuilder()
                    .setContainerId(created)
                    .build());
        }
    }

    static void assertCode(Status.Code code, org.junit.jupiter.api.function.Executable call) {
        var e = assertThrows(StatusRuntimeException.class, call);
        assertEquals(code, e.getStatus().getCode(), e.getMessage());
    }

    // ------------------------------------------------------------------ helpers

    /** v4: a JSON Status "Success"; v1-v3: nothing (or, v1 only, a reset error stream). */
    static void assertSuccess(String version, String error) throws Exception {
        if (version.equals(SpdyCommand.V4) || version.equals(WsCommand.V5)) {
            assertNotNull(error, "error stream");
            assertEquals("Success", JSON.readTree(error).path("status").asText(), error);
        } else if (error != null || !version.equals(SpdyCommand.V1)) {
            assertEquals("", error, "error stream on success");
        }
    }
}

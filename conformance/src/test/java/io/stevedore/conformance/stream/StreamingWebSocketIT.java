package io.stevedore.conformance.stream;

import static io.stevedore.conformance.stream.StreamingFixture.CLOSED_PORT;
import static io.stevedore.conformance.stream.StreamingFixture.ECHO_PORT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stevedore.conformance.RequiresRoot;
import io.stevedore.cri.v1.ContainerState;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Exec, Attach and PortForward through the daemon's streaming server over WebSockets, as kubectl
 * 1.30+ (client-go's WebSocket executor, v5) and other WebSocket clients speak them: each
 * {@code channel.k8s.io} subprotocol including base64 and the v5 CLOSE signal, port forwarding
 * on channel pairs and SPDY tunnelled in a WebSocket, each with 100 MiB both ways, token rules,
 * and a client that vanishes mid-exec.
 */
@RequiresRoot
class StreamingWebSocketIT {
    @RegisterExtension
    static final StreamingFixture f = new StreamingFixture("sdws0", "sdws", "10.125.0.");

    static final ObjectMapper JSON = new ObjectMapper();
    static final long HUNDRED_MIB = 100L << 20;

    // ------------------------------------------------------------------ exec, each subprotocol

    @ParameterizedTest
    @ValueSource(strings = {WsCommand.V5, WsCommand.V4, WsCommand.V1, WsCommand.BASE64})
    void exec_keepsStdoutAndStderrApart_afterAnEmptyFirstMessageOnStdout(String protocol) throws Exception {
        String url = f.execUrl(f.shell(), List.of("sh", "-c", "echo out; echo err >&2"), false, true, true, false);
        try (var c = WsCommand.open(url, protocol, false, true, true)) {
            assertEquals(protocol, c.protocol(), "negotiated subprotocol");
            var r = c.collect();
            assertEquals("out\n", r.stdout());
            assertEquals("err\n", r.stderr());
            assertSuccess(protocol, r.error());
            var first = c.channels().firstMessage();
            assertNotNull(first, "a first message");
            assertEquals(1, first.channel(), "first message is on stdout: " + first);
            assertEquals(0, first.data().length, "first message is empty: " + first);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {WsCommand.V5, WsCommand.V4, WsCommand.V1, WsCommand.BASE64})
    void exec_nonZeroExit_isReportedOnTheErrorChannel(String protocol) throws Exception {
        String url = f.execUrl(f.shell(), List.of("sh", "-c", "echo before; exit 3"), false, true, true, false);
        try (var c = WsCommand.open(url, protocol, false, true, true)) {
            var r = c.collect();
            assertEquals("before\n", r.stdout());
            if (protocol.equals(WsCommand.V5) || protocol.equals(WsCommand.V4)) {
                JsonNode st = JSON.readTree(r.error());
                assertEquals("Failure", st.path("status").asText(), r.error());
                assertEquals("NonZeroExitCode", st.path("reason").asText(), r.error());
                JsonNode cause = st.path("details").path("causes").path(0);
                assertEquals("ExitCode", cause.path("reason").asText(), r.error());
                assertEquals("3", cause.path("message").asText(), r.error());
            } else {
                assertTrue(r.error().matches("(?s).*exit code.*\\b3\\b.*"), "error channel text: " + r.error());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {WsCommand.V4, WsCommand.V1, WsCommand.BASE64})
    void exec_stdinReachesTheCommand(String protocol) throws Exception {
        String url = f.execUrl(f.shell(), List.of("cat"), true, true, true, false);
        try (var c = WsCommand.open(url, protocol, true, true, true)) {
            c.stdin().write("hello over websocket\n".getBytes(StandardCharsets.UTF_8));
            byte[] back = c.stdout().readNBytes(21);
            assertEquals("hello over websocket\n", new String(back, StandardCharsets.UTF_8));
        }
    }

    @Test
    void v5_closeOfStdin_endsCat_withItsOutputComplete() throws Exception {
        var sb = new StringBuilder();
        for (int i = 0; sb.length() < 1 << 20; i++) {
            sb.append("line ").append(i).append(" of what cat must give back unchanged\n");
        }
        String input = sb.toString();
        String url = f.execUrl(f.shell(), List.of("cat"), true, true, true, false);
        try (var c = WsCommand.open(url, WsCommand.V5, true, true, true)) {
            var collected = StreamingFixture.inBackground(c::collect);
            c.stdin().write(input.getBytes(StandardCharsets.UTF_8));
            c.closeStdin();
            var r = collected.get(2, TimeUnit.MINUTES);
            assertEquals(input.length(), r.stdout().length(), "all of stdin came back");
            assertEquals(input, r.stdout());
            assertSuccess(WsCommand.V5, r.error());
        }
    }

    // ------------------------------------------------------------------ tty

    @ParameterizedTest
    @ValueSource(strings = {WsCommand.V5, WsCommand.V4, WsCommand.V1, WsCommand.BASE64})
    void execTty_resizeReachesTheTerminal(String protocol) throws Exception {
        String url = f.execUrl(
                f.shell(),
                List.of("sh", "-c", "while read x; do /bin/busybox stty size; done"),
                true,
                true,
                false,
                true);
        try (var c = WsCommand.open(url, protocol, true, true, false)) {
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
        }
    }

    // ------------------------------------------------------------------ attach

    @Test
    void attach_twoClientsAtOnce_bothSeeLiveOutput_andTheContainerOutlivesThem() throws Exception {
        var a = WsCommand.open(f.attachUrl(f.ticker(), false, true, true, false), WsCommand.V5, false, true, true);
        var b = WsCommand.open(f.attachUrl(f.ticker(), false, true, true, false), WsCommand.V4, false, true, true);
        try {
            var outA = new StreamingFixture.Collector(a.stdout());
            var outB = new StreamingFixture.Collector(b.stdout());
            await("both attached clients see the same new ticks")
                    .atMost(Duration.ofSeconds(20))
                    .untilAsserted(() -> {
                        var ticksA = StreamingSpdyIT.ticks(outA.text());
                        ticksA.retainAll(StreamingSpdyIT.ticks(outB.text()));
                        assertTrue(
                                ticksA.size() >= 3,
                                "common ticks: " + ticksA + "\nA: " + outA.text() + "\nB: " + outB.text());
                    });
        } finally {
            a.close();
            b.close();
        }
        assertEquals(ContainerState.CONTAINER_RUNNING, f.state(f.ticker()), "detaching does not stop the container");
        try (var c =
                WsCommand.open(f.attachUrl(f.ticker(), false, true, false, false), WsCommand.V5, false, true, false)) {
            var out = new StreamingFixture.Collector(c.stdout());
            await("a later attach still sees ticks")
                    .atMost(Duration.ofSeconds(20))
                    .untilAsserted(
                            () -> assertTrue(StreamingSpdyIT.ticks(out.text()).size() >= 2, out.text()));
        }
    }

    // ------------------------------------------------------------------ port forward

    @Test
    void portForward_hundredMebibytesEachWay_arriveIntact() throws Exception {
        try (var pf = WsPortForward.open(f.portForwardUrl(ECHO_PORT), WsPortForward.PROTOCOL, List.of(ECHO_PORT))) {
            assertEquals(WsPortForward.PROTOCOL, pf.channels().client().subprotocol());
            var t = StreamingFixture.echo(pf.dataOut(0), pf.data(0), HUNDRED_MIB);
            assertEquals(HUNDRED_MIB, t.receivedBytes(), "bytes echoed back");
            assertEquals(t.sent(), t.received(), "SHA-256 of what came back");
            pf.error(0); // its port prefix, checked
        }
    }

    @Test
    void portForward_closedPort_reportsAnErrorOnItsChannel_andTheOtherPortStillWorks() throws Exception {
        try (var pf = WsPortForward.open(
                f.portForwardUrl(CLOSED_PORT, ECHO_PORT), WsPortForward.PROTOCOL, List.of(CLOSED_PORT, ECHO_PORT))) {
            String err = StreamingFixture.readSome(pf.error(0));
            assertTrue(err.contains(Integer.toString(CLOSED_PORT)), "error names the port: " + err);
            pf.dataOut(1).write("ping\n".getBytes(StandardCharsets.US_ASCII));
            assertArrayEquals(
                    "ping\n".getBytes(StandardCharsets.US_ASCII), pf.data(1).readNBytes(5));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"v4.channel.k8s.io", "v4.base64.channel.k8s.io", "portforward.k8s.io"})
    void portForward_eachSubprotocol_carriesData(String protocol) throws Exception {
        try (var pf = WsPortForward.open(f.portForwardUrl(ECHO_PORT), protocol, List.of(ECHO_PORT))) {
            assertEquals(protocol, pf.channels().client().subprotocol());
            pf.dataOut(0).write("ping\n".getBytes(StandardCharsets.US_ASCII));
            assertArrayEquals(
                    "ping\n".getBytes(StandardCharsets.US_ASCII), pf.data(0).readNBytes(5));
        }
    }

    @Test
    void portForward_spdyInWebSocket_hundredMebibytesEachWay_arriveIntact() throws Exception {
        try (var pf = SpdyPortForward.overWebSocket(f.portForwardUrl(ECHO_PORT))) {
            assertEquals(SpdyPortForward.TUNNEL_PROTOCOL, pf.client().protocol());
            StreamingFixture.assertHundredMebibytesEachWay(pf);
        }
    }

    @Test
    void portForward_spdyInWebSocket_closedPort_reportsAnError_andTheSessionStillWorks() throws Exception {
        try (var pf = SpdyPortForward.overWebSocket(f.portForwardUrl(ECHO_PORT))) {
            StreamingFixture.assertClosedPortThenOpenPort(pf);
        }
    }

    // ------------------------------------------------------------------ load

    @Test
    void exec_hundredAtOnce_eachGetsItsOwnOutput() throws Exception {
        f.assertHundredExecsAtOnce(url -> WsCommand.open(url, WsCommand.V5, false, true, true), error -> {
            try {
                assertSuccess(WsCommand.V5, error);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
    }

    // ------------------------------------------------------------------ tokens

    @Test
    void token_usedTwice_isNotFound() throws Exception {
        String url = f.execUrl(f.shell(), List.of("true"), false, true, false, false);
        try (var c = WsCommand.open(url, WsCommand.V5, false, true, false)) {
            c.collect();
        }
        var e = assertThrows(UpgradeFailedException.class, () -> WsCommand.open(url, WsCommand.V5, false, true, false));
        assertEquals(404, e.status(), e.getMessage());

        String pfUrl = f.portForwardUrl(ECHO_PORT);
        WsPortForward.open(pfUrl, WsPortForward.PROTOCOL, List.of(ECHO_PORT)).close();
        var e2 = assertThrows(
                UpgradeFailedException.class,
                () -> WsPortForward.open(pfUrl, WsPortForward.PROTOCOL, List.of(ECHO_PORT)));
        assertEquals(404, e2.status(), e2.getMessage());
    }

    @Test
    void token_forged_isNotFound() throws Exception {
        for (String forged : List.of(
                StreamingFixture.forged(f.execUrl(f.shell(), List.of("true"), false, true, false, false)),
                StreamingFixture.forged(f.attachUrl(f.ticker(), false, true, false, false)))) {
            var e = assertThrows(
                    UpgradeFailedException.class, () -> WsCommand.open(forged, WsCommand.V5, false, true, false));
            assertEquals(404, e.status(), e.getMessage());
        }
        String pf = StreamingFixture.forged(f.portForwardUrl(ECHO_PORT));
        var e = assertThrows(UpgradeFailedException.class, () -> SpdyPortForward.overWebSocket(pf));
        assertEquals(404, e.status(), e.getMessage());
    }

    // ------------------------------------------------------------------ a client that vanishes

    @Test
    void exec_clientDisconnectsMidRun_leavesNoProcessNorFd() throws Exception {
        disconnectMidRun("1781");
        long fds = f.daemonFds();
        disconnectMidRun("1782");
        await("daemon fds back to " + fds)
                .atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(200))
                .untilAsserted(
                        () -> assertTrue(f.daemonFds() <= fds, "daemon has " + f.daemonFds() + " fds, had " + fds));
    }

    private void disconnectMidRun(String seconds) throws Exception {
        var argv = List.of("sleep", seconds);
        String url = f.execUrl(f.shell(), argv, false, true, true, false);
        var c = WsCommand.open(url, WsCommand.V5, false, true, true);
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

    // ------------------------------------------------------------------ helpers

    static void assertSuccess(String protocol, String error) throws Exception {
        if (protocol.equals(WsCommand.V5) || protocol.equals(WsCommand.V4)) {
            assertEquals("Success", JSON.readTree(error).path("status").asText(), error);
        } else {
            assertEquals("", error, "error channel on success");
        }
    }
}

package io.stevedore.server.streaming;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ProtocolsTest {
    @Test
    void negotiate_clientOrderWins() {
        var v = Protocols.negotiate(List.of("v2.channel.k8s.io", "v4.channel.k8s.io"), Protocols.SPDY_COMMAND);
        assertEquals("v2.channel.k8s.io", v.orElseThrow().name());
    }

    @Test
    void negotiate_unknownOnly_isEmpty() {
        assertEquals(Optional.empty(), Protocols.negotiate(List.of("v9.channel.k8s.io"), Protocols.SPDY_COMMAND));
    }

    @Test
    void split_commaSeparatedAndRepeatedHeaders() {
        assertEquals(List.of("a", "b", "c"), Protocols.split(List.of("a, b", "c")));
    }

    @Test
    void status_v4_nonZeroExit_carriesExitCodeCause() throws Exception {
        var json = new ObjectMapper()
                .readTree(CommandStatus.exited(List.of("sh", "-c", "exit 3"), 3).encode(true));
        assertEquals("Failure", json.path("status").asText());
        assertEquals("NonZeroExitCode", json.path("reason").asText());
        assertEquals(
                "ExitCode",
                json.path("details").path("causes").path(0).path("reason").asText());
        assertEquals(
                "3", json.path("details").path("causes").path(0).path("message").asText());
        assertEquals(
                "command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3",
                json.path("message").asText());
    }

    @Test
    void status_v4_success() throws Exception {
        var json = new ObjectMapper()
                .readTree(CommandStatus.exited(List.of("true"), 0).encode(true));
        assertEquals("Success", json.path("status").asText());
    }

    @Test
    void status_preV4_isTextOnFailureOnly() {
        assertEquals(0, CommandStatus.success().encode(false).length);
        assertEquals(
                "command terminated with non-zero exit code: error executing command [false], exit code 1",
                new String(CommandStatus.exited(List.of("false"), 1).encode(false)));
    }

    @Test
    void terminalSizes_burstCollapsesToNewest() throws Exception {
        var s = new TerminalSizes();
        s.offer(new TerminalSizes.Size(80, 24));
        s.offer(new TerminalSizes.Size(100, 30));
        s.offer(new TerminalSizes.Size(-1, 5)); // invalid: dropped
        assertEquals(new TerminalSizes.Size(100, 30), s.next().orElseThrow());
        s.close();
        assertEquals(Optional.empty(), s.next());
        assertEquals(Optional.empty(), s.next(), "stays ended");
    }
}

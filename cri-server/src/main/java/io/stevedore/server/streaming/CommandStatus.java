package io.stevedore.server.streaming;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * How an exec or attach ended, as the client reads it from the error stream. From protocol v4 on
 * (SPDY {@code v4.channel.k8s.io}, WebSocket v4 and v5) it is a JSON {@code metav1.Status}: {@code
 * Success}, or {@code Failure} with reason {@code NonZeroExitCode} and an {@code ExitCode} cause
 * carrying the code (which kubectl turns into its own exit code), or {@code InternalError}. Older
 * protocols get nothing on success and the message text otherwise.
 */
record CommandStatus(int exitCode, String message) {
    private static final ObjectMapper JSON = new ObjectMapper();

    static CommandStatus exited(List<String> cmd, int code) {
        if (code == 0) {
            return new CommandStatus(0, "");
        }
        // The message containerd and CRI-O give, with the command as Go prints a []string.
        return new CommandStatus(
                code,
                "command terminated with non-zero exit code: error executing command [" + String.join(" ", cmd)
                        + "], exit code " + code);
    }

    static CommandStatus success() {
        return new CommandStatus(0, "");
    }

    /** The session failed on our side (-1 marks it: no exit code). */
    static CommandStatus failed(String what) {
        return new CommandStatus(-1, what);
    }

    byte[] encode(boolean json) {
        if (!json) {
            return exitCode == 0 ? new byte[0] : message.getBytes(StandardCharsets.UTF_8);
        }
        ObjectNode s = JSON.createObjectNode();
        s.putObject("metadata");
        if (exitCode == 0) {
            s.put("status", "Success");
        } else if (exitCode > 0) {
            s.put("status", "Failure");
            s.put("message", message);
            s.put("reason", "NonZeroExitCode");
            s.putObject("details")
                    .putArray("causes")
                    .addObject()
                    .put("reason", "ExitCode")
                    .put("message", Integer.toString(exitCode));
        } else {
            s.put("status", "Failure");
            s.put("message", "Internal error occurred: " + message);
            s.put("reason", "InternalError");
            s.putObject("details").putArray("causes").addObject().put("message", message);
            s.put("code", 500);
        }
        try {
            return JSON.writeValueAsBytes(s);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}

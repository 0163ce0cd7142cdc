package io.stevedore.server.image.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLException;

/** Turns what went wrong on the wire into the words of a {@link RegistryException}. */
final class RegistryErrors {
    private static final ObjectMapper JSON = new ObjectMapper();

    private RegistryErrors() {}

    /**
     * The registry's error body in one line: {@code CODE: message} for each entry of the
     * distribution {@code errors} array, else the start of the body as text.
     */
    static String detail(byte[] body) {
        try {
            JsonNode n = JSON.readTree(body);
            if (n != null && n.path("errors").isArray() && !n.path("errors").isEmpty()) {
                List<String> parts = new ArrayList<>();
                for (JsonNode e : n.path("errors")) {
                    String code = e.path("code").asText("");
                    String msg = e.path("message").asText("");
                    parts.add(code.isEmpty() ? msg : msg.isEmpty() ? code : code + ": " + msg);
                }
                return String.join("; ", parts);
            }
            if (n != null && n.has("details")) { // some token servers
                return n.path("details").asText();
            }
        } catch (IOException e) {
            // not JSON
        }
        String text = new String(body, 0, Math.min(body.length, 200), StandardCharsets.UTF_8).strip();
        return text.replaceAll("\\s+", " ");
    }

    /** An I/O failure in words, without a stack trace: the exception type tells what went wrong. */
    static String describe(Exception e) {
        String what = switch (e) {
            case HttpConnectTimeoutException t -> "connect timed out";
            case HttpTimeoutException t -> "timed out waiting for the response";
            case ConnectException c -> "connection refused";
            case SSLException s -> "TLS: " + s.getMessage();
            default -> e.getClass().getSimpleName() + ": " + e.getMessage();
        };
        if (e instanceof ConnectException
                && e.getMessage() != null
                && !e.getMessage().isEmpty()) {
            what = "connect failed: " + e.getMessage();
        }
        return what;
    }
}

package io.stevedore.server.streaming;

import java.util.List;
import java.util.Optional;

/**
 * The subprotocols we speak and what each one changes, negotiated as the kubelet does: the first
 * of the client's offers (in the client's order) that we know wins.
 */
final class Protocols {
    private Protocols() {}

    /**
     * @param resizeStream SPDY: a terminal session has a {@code resize} stream (v3+)
     * @param jsonStatus the error stream carries a JSON {@code metav1.Status} (v4+)
     * @param closeSignal WebSocket: channel 255 half-closes a channel (v5)
     * @param base64 WebSocket: text messages, channel as an ASCII digit, payload in base64
     * @param tunnel WebSocket: binary messages carry a SPDY connection (port-forward)
     */
    record Version(
            String name,
            boolean resizeStream,
            boolean jsonStatus,
            boolean closeSignal,
            boolean base64,
            boolean tunnel) {}

    static final String SPDY_UPGRADE = "SPDY/3.1";
    static final String PORT_FORWARD = "portforward.k8s.io";

    /** remotecommand over SPDY, newest first. */
    static final List<Version> SPDY_COMMAND = List.of(
            new Version("v4.channel.k8s.io", true, true, false, false, false),
            new Version("v3.channel.k8s.io", true, false, false, false, false),
            new Version("v2.channel.k8s.io", false, false, false, false, false),
            new Version("channel.k8s.io", false, false, false, false, false));

    static final List<Version> SPDY_PORT_FORWARD =
            List.of(new Version(PORT_FORWARD, false, false, false, false, false));

    /** remotecommand over WebSocket; a client offering none gets binary {@code channel.k8s.io}. */
    static final List<Version> WS_COMMAND = List.of(
            new Version("v5.channel.k8s.io", true, true, true, false, false),
            new Version("v4.channel.k8s.io", true, true, false, false, false),
            new Version("v4.base64.channel.k8s.io", true, true, false, true, false),
            new Version("channel.k8s.io", true, false, false, false, false),
            new Version("base64.channel.k8s.io", true, false, false, true, false));

    /** port-forward over WebSocket: channel pairs, or SPDY tunnelled in binary messages (kubectl 1.31+). */
    static final List<Version> WS_PORT_FORWARD = List.of(
            new Version("SPDY/3.1+portforward.k8s.io", false, false, false, false, true),
            new Version("v4.channel.k8s.io", false, false, false, false, false),
            new Version("v4.base64.channel.k8s.io", false, false, false, true, false),
            new Version(PORT_FORWARD, false, false, false, false, false),
            new Version("channel.k8s.io", false, false, false, false, false),
            new Version("base64.channel.k8s.io", false, false, false, true, false));

    static Optional<Version> negotiate(List<String> offered, List<Version> ours) {
        for (String o : offered) {
            for (Version v : ours) {
                if (v.name().equals(o.strip())) {
                    return Optional.of(v);
                }
            }
        }
        return Optional.empty();
    }

    /** Header values that may be repeated or comma-separated. */
    static List<String> split(List<String> headerValues) {
        return headerValues.stream()
                .flatMap(v -> java.util.Arrays.stream(v.split(",")))
                .map(String::strip)
                .filter(s -> !s.isEmpty())
                .toList();
    }

    static String names(List<Version> vs) {
        return String.join(",", vs.stream().map(Version::name).toList());
    }
}

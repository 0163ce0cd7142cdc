package io.stevedore.conformance.stream;

import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Port forwarding over SPDY ({@code portforward.k8s.io}), as client-go's {@code
 * tools/portforward}: one session carries any number of connections; each is a pair of streams
 * with the same {@code requestid}, the error stream first (half-closed at once: the client never
 * writes on it), then the data stream. The session runs over an upgraded TCP connection or, with
 * {@link #overWebSocket}, over SPDY tunnelled in a WebSocket ({@code SPDY/3.1+portforward.k8s.io}).
 */
public final class SpdyPortForward implements AutoCloseable {
    public static final String PROTOCOL = "portforward.k8s.io";
    public static final String TUNNEL_PROTOCOL = "SPDY/3.1+portforward.k8s.io";

    private final SpdyClient spdy;
    private final AtomicInteger requestIds = new AtomicInteger();

    private SpdyPortForward(SpdyClient spdy) {
        this.spdy = spdy;
    }

    /** A session over a plain SPDY upgrade ({@code POST}, offering {@value #PROTOCOL}). */
    public static SpdyPortForward open(String url) throws IOException {
        return new SpdyPortForward(SpdyClient.connect(URI.create(url), "POST", List.of(PROTOCOL)));
    }

    /** A session over SPDY inside a WebSocket offering {@value #TUNNEL_PROTOCOL}. */
    public static SpdyPortForward overWebSocket(String url) throws IOException {
        return new SpdyPortForward(SpdyClient.connectOverWebSocket(URI.create(url), List.of(TUNNEL_PROTOCOL)));
    }

    public SpdyClient client() {
        return spdy;
    }

    /** One forwarded connection: its error stream (read-only) and its data stream. */
    public record Connection(SpdyClient.Stream error, SpdyClient.Stream data) {}

    /** Opens a new connection to {@code port} in the pod: error stream, then data stream. */
    public Connection connect(int port) throws IOException {
        String id = Integer.toString(requestIds.getAndIncrement());
        var error = spdy.open(Map.of("streamtype", "error", "port", Integer.toString(port), "requestid", id));
        error.halfClose();
        var data = spdy.open(Map.of("streamtype", "data", "port", Integer.toString(port), "requestid", id));
        return new Connection(error, data);
    }

    @Override
    public void close() {
        spdy.close();
    }
}

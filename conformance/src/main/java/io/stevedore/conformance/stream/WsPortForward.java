package io.stevedore.conformance.stream;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * Port forwarding over a WebSocket ({@code v4.channel.k8s.io}, as the kubelet serves it): the
 * ports are fixed by the query ({@code ?port=80&port=8080}); for the i-th, channel 2i carries the
 * data both ways and channel 2i+1 the server's error text. The server's first bytes on each of
 * the two are the port, 2 bytes little-endian; {@link #data(int)} and {@link #error(int)} check
 * and strip that prefix.
 */
public final class WsPortForward implements AutoCloseable {
    public static final String PROTOCOL = "v4.channel.k8s.io";

    private final WsChannels channels;
    private final List<Integer> ports;
    private final List<InputStream> data = new ArrayList<>();
    private final List<InputStream> errors = new ArrayList<>();

    private WsPortForward(WsChannels channels, List<Integer> ports) {
        this.channels = channels;
        this.ports = ports;
        for (int i = 0; i < ports.size(); i++) {
            data.add(channels.input(2 * i));
            errors.add(channels.input(2 * i + 1));
        }
    }

    /**
     * Opens {@code url} (the daemon's, without a query) with {@code ?port=...} for each port,
     * offering {@code subprotocol} ({@value #PROTOCOL} unless testing another).
     */
    public static WsPortForward open(String url, String subprotocol, List<Integer> ports) throws IOException {
        var q = new StringBuilder(url.contains("?") ? "&" : "?");
        for (int i = 0; i < ports.size(); i++) {
            q.append(i == 0 ? "" : "&").append("port=").append(ports.get(i));
        }
        return new WsPortForward(new WsChannels(WsClient.connect(URI.create(url + q), List.of(subprotocol))), ports);
    }

    public WsChannels channels() {
        return channels;
    }

    /** The data coming back from the i-th port, after its 2-byte port prefix (checked). */
    public InputStream data(int i) throws IOException {
        readPrefix(data.get(i), i, "data");
        return data.get(i);
    }

    /** Sends to the i-th port. */
    public OutputStream dataOut(int i) {
        return channels.output(2 * i);
    }

    /** The error channel of the i-th port, after its 2-byte port prefix (checked). */
    public InputStream error(int i) throws IOException {
        readPrefix(errors.get(i), i, "error");
        return errors.get(i);
    }

    private final java.util.Set<String> prefixed = new java.util.HashSet<>();

    private synchronized void readPrefix(InputStream in, int i, String kind) throws IOException {
        if (!prefixed.add(kind + i)) {
            return;
        }
        byte[] p = in.readNBytes(2);
        if (p.length != 2) {
            throw new IOException(kind + " channel " + i + " ended before its port prefix");
        }
        int port = (p[0] & 0xff) | (p[1] & 0xff) << 8;
        if (port != ports.get(i)) {
            throw new IOException(kind + " channel of port " + ports.get(i) + " starts with port " + port);
        }
    }

    @Override
    public void close() {
        channels.close();
    }
}

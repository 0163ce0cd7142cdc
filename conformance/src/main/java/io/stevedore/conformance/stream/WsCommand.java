package io.stevedore.conformance.stream;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Exec or attach over a WebSocket, as the kubelet's streaming server speaks it: channels 0 stdin,
 * 1 stdout, 2 stderr, 3 error, 4 resize. The server first sends an empty message on the lowest
 * channel it writes (stdout, else stderr, else error). Subprotocols:
 *
 * <ul>
 *   <li>{@code channel.k8s.io} and {@code base64.channel.k8s.io}: failure text on the error channel;
 *   <li>{@code v4.channel.k8s.io}: a JSON {@code metav1.Status} on the error channel;
 *   <li>{@code v5.channel.k8s.io}: v4 plus the CLOSE signal, which lets the client end stdin.
 * </ul>
 */
public final class WsCommand implements CommandStreams {
    public static final String V1 = "channel.k8s.io";
    public static final String BASE64 = "base64.channel.k8s.io";
    public static final String V4 = "v4.channel.k8s.io";
    public static final String V5 = "v5.channel.k8s.io";

    private final WsChannels channels;
    private final boolean in;
    private final boolean out;
    private final boolean err;
    private final InputStream stdout;
    private final InputStream stderr;
    private final InputStream error;

    private WsCommand(WsChannels channels, boolean in, boolean out, boolean err) {
        this.channels = channels;
        this.in = in;
        this.out = out;
        this.err = err;
        this.stdout = out ? channels.input(1) : null;
        this.stderr = err ? channels.input(2) : null;
        this.error = channels.input(3);
    }

    /** Opens the WebSocket offering {@code subprotocol}; which channels are used follows the request. */
    public static WsCommand open(String url, String subprotocol, boolean in, boolean out, boolean err)
            throws IOException {
        return new WsCommand(new WsChannels(WsClient.connect(URI.create(url), List.of(subprotocol))), in, out, err);
    }

    public WsChannels channels() {
        return channels;
    }

    @Override
    public String protocol() {
        return channels.client().subprotocol();
    }

    @Override
    public OutputStream stdin() {
        return in ? channels.output(0) : null;
    }

    @Override
    public InputStream stdout() {
        return stdout;
    }

    @Override
    public InputStream stderr() {
        return stderr;
    }

    @Override
    public InputStream error() {
        return error;
    }

    @Override
    public void resize(int width, int height) throws IOException {
        byte[] json = ("{\"Width\":" + width + ",\"Height\":" + height + "}").getBytes(StandardCharsets.UTF_8);
        channels.write(4, json, 0, json.length);
    }

    @Override
    public void closeStdin() throws IOException {
        if (!V5.equals(protocol())) {
            throw new IOException(protocol() + " has no way to end stdin (only " + V5 + ")");
        }
        channels.closeChannel(0);
    }

    @Override
    public void close() {
        channels.close();
    }

    @Override
    public void abort() {
        channels.abort();
    }
}

package io.stevedore.conformance.stream;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Exec or attach over SPDY, as client-go's {@code tools/remotecommand} v1–v4 do it: the streams
 * are created in the order error, stdin, stdout, stderr, resize (each with only a {@code
 * streamtype} header, each waiting for its SYN_REPLY) before anything is sent.
 *
 * <ul>
 *   <li>{@code channel.k8s.io} (v1) and {@code v2.channel.k8s.io}: the error stream carries the
 *       failure as text, nothing on success;
 *   <li>{@code v3.channel.k8s.io}: adds the resize stream (for a tty);
 *   <li>{@code v4.channel.k8s.io}: the error stream carries a JSON {@code metav1.Status}.
 * </ul>
 */
public final class SpdyCommand implements CommandStreams {
    public static final String V1 = "channel.k8s.io";
    public static final String V2 = "v2.channel.k8s.io";
    public static final String V3 = "v3.channel.k8s.io";
    public static final String V4 = "v4.channel.k8s.io";

    private final SpdyClient spdy;
    private final SpdyClient.Stream error;
    private final SpdyClient.Stream stdin;
    private final SpdyClient.Stream stdout;
    private final SpdyClient.Stream stderr;
    private final SpdyClient.Stream resize;

    private SpdyCommand(
            SpdyClient spdy,
            SpdyClient.Stream error,
            SpdyClient.Stream stdin,
            SpdyClient.Stream stdout,
            SpdyClient.Stream stderr,
            SpdyClient.Stream resize) {
        this.spdy = spdy;
        this.error = error;
        this.stdin = stdin;
        this.stdout = stdout;
        this.stderr = stderr;
        this.resize = resize;
    }

    /**
     * Upgrades {@code url} offering {@code protocol} (only it) with a {@code POST}, as kubectl, and
     * creates the streams the request asked for. The resize stream is created for a tty on v3 and v4.
     */
    public static SpdyCommand open(String url, String protocol, boolean in, boolean out, boolean err, boolean tty)
            throws IOException {
        return open(url, List.of(protocol), in, out, err, tty);
    }

    /** As {@link #open(String, String, boolean, boolean, boolean, boolean)}, offering several. */
    public static SpdyCommand open(
            String url, List<String> protocols, boolean in, boolean out, boolean err, boolean tty) throws IOException {
        SpdyClient spdy = SpdyClient.connect(URI.create(url), "POST", protocols);
        try {
            String p = spdy.protocol() == null ? V1 : spdy.protocol();
            var error = spdy.open(Map.of("streamtype", "error"));
            var stdin = in ? spdy.open(Map.of("streamtype", "stdin")) : null;
            var stdout = out ? spdy.open(Map.of("streamtype", "stdout")) : null;
            var stderr = err && !tty ? spdy.open(Map.of("streamtype", "stderr")) : null;
            var resize = tty && (p.equals(V3) || p.equals(V4)) ? spdy.open(Map.of("streamtype", "resize")) : null;
            return new SpdyCommand(spdy, error, stdin, stdout, stderr, resize);
        } catch (IOException | RuntimeException e) {
            spdy.abort();
            throw e;
        }
    }

    public SpdyClient client() {
        return spdy;
    }

    @Override
    public String protocol() {
        return spdy.protocol();
    }

    @Override
    public OutputStream stdin() {
        return stdin == null ? null : stdin.output();
    }

    @Override
    public InputStream stdout() {
        return stdout == null ? null : stdout.input();
    }

    @Override
    public InputStream stderr() {
        return stderr == null ? null : stderr.input();
    }

    @Override
    public InputStream error() {
        return error.input();
    }

    /** The error stream itself (to see whether it ended with FIN or was reset). */
    public SpdyClient.Stream errorStream() {
        return error;
    }

    @Override
    public void resize(int width, int height) throws IOException {
        if (resize == null) {
            throw new IOException("no resize stream on " + protocol());
        }
        resize.output().write(("{\"Width\":" + width + ",\"Height\":" + height + "}").getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void closeStdin() throws IOException {
        stdin.halfClose();
    }

    @Override
    public void close() {
        spdy.close();
    }

    @Override
    public void abort() {
        spdy.abort();
    }
}

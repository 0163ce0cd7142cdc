package io.stevedore.shim;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A client of a shim's control socket ({@code <socket-dir>/ctl.sock}): one request line, one
 * {@code ok} or {@code error <text>} line back, in order.
 *
 * <p>Thread-safe (requests are serialized). Both requests are idempotent. A request blocks
 * until the shim answers; the shim answers at once unless it is stopped or gone, in which case
 * the call fails with an {@link IOException}.
 *
 * {@snippet :
 * try (var ctl = ShimControl.connect(spec.controlSocket())) {
 *   ctl.reopenLog();                                   // after kubelet rotated the log
 * }
 * }
 */
public final class ShimControl implements AutoCloseable {
    private final SocketChannel channel;
    private final ByteBuffer in = ByteBuffer.allocate(512); // guarded by this

    private ShimControl(SocketChannel channel) {
        this.channel = channel;
    }

    /** Connects to the control socket; fails if the shim is gone. */
    public static ShimControl connect(Path socket) throws IOException {
        return new ShimControl(UnixSockets.connect(socket, "shim control socket"));
    }

    /** Makes the shim reopen (create) the container log at its path, e.g. after rotation. */
    public void reopenLog() throws IOException, ShimException {
        request("reopen-log");
    }

    /** Sets the container terminal's size; fails if the container has no terminal. */
    public void resize(int rows, int cols) throws IOException, ShimException {
        if (rows < 0 || rows > 0xffff || cols < 0 || cols > 0xffff) {
            throw new IllegalArgumentException("terminal size out of range: " + rows + "x" + cols);
        }
        request("resize " + rows + " " + cols);
    }

    private synchronized void request(String line) throws IOException, ShimException {
        ByteBuffer out = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.US_ASCII));
        while (out.hasRemaining()) channel.write(out);
        String reply = readLine();
        if (!reply.equals("ok")) {
            throw new ShimException("shim " + line + ": " + reply.replaceFirst("^error ", ""));
        }
    }

    private String readLine() throws IOException {
        for (; ; ) {
            for (int i = 0; i < in.position(); i++) {
                if (in.get(i) == '\n') {
                    String s = new String(in.array(), 0, i, StandardCharsets.UTF_8);
                    in.flip().position(i + 1);
                    in.compact();
                    return s;
                }
            }
            if (!in.hasRemaining()) throw new IOException("shim control reply too long");
            if (channel.read(in) < 0) throw new IOException("shim closed the control socket");
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}

package io.stevedore.shim;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A client of a shim's attach socket ({@code <socket-dir>/attach.sock}). Frames in both
 * directions are {@code u8 kind, u32 big-endian length, payload}: the shim sends kind 1
 * (stdout) and 2 (stderr) with what the container writes after the connection; the client
 * sends kind 0 (stdin data) and 3 (close stdin). The shim disconnects a client that does not
 * read fast enough, and all clients when the container exits.
 *
 * <p>One reader thread and one writer thread may use an instance concurrently.
 */
public final class ShimAttach implements AutoCloseable {
    /** A chunk of container output. */
    public record Frame(StdStream stream, byte[] data) {}

    private static final byte STDIN = 0;
    private static final byte CLOSE_STDIN = 3;

    private final SocketChannel channel;

    private ShimAttach(SocketChannel channel) {
        this.channel = channel;
    }

    /** Connects to the attach socket; fails if the shim is gone. */
    public static ShimAttach connect(Path socket) throws IOException {
        return new ShimAttach(UnixSockets.connect(socket, "shim attach socket"));
    }

    /** Sends bytes to the container's stdin (dropped if it was started without {@code --stdin}). */
    public synchronized void writeStdin(byte[] data) throws IOException {
        send(STDIN, data);
    }

    /** Closes the container's stdin (the shim flushes pending input first). */
    public synchronized void closeStdin() throws IOException {
        send(CLOSE_STDIN, new byte[0]);
    }

    private void send(byte kind, byte[] data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(5 + data.length)
                .put(kind)
                .putInt(data.length)
                .put(data)
                .flip();
        while (b.hasRemaining()) channel.write(b);
    }

    /** The next output frame, or empty once the shim closed the connection. */
    public Optional<Frame> read() throws IOException {
        ByteBuffer hdr = ByteBuffer.allocate(5);
        if (!fill(hdr, true)) return Optional.empty();
        hdr.flip();
        byte kind = hdr.get();
        ByteBuffer data = ByteBuffer.allocate(hdr.getInt());
        fill(data, false);
        StdStream stream = switch (kind) {
            case 1 -> StdStream.STDOUT;
            case 2 -> StdStream.STDERR;
            default -> throw new IOException("attach: unknown frame kind " + kind);
        };
        return Optional.of(new Frame(stream, data.array()));
    }

    private boolean fill(ByteBuffer b, boolean eofAllowed) throws IOException {
        while (b.hasRemaining()) {
            if (channel.read(b) < 0) {
                if (eofAllowed && b.position() == 0) return false;
                throw new EOFException("attach: connection closed inside a frame");
            }
        }
        return true;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}

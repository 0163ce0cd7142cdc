package io.stevedore.shim;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/** Connecting to the shim's Unix sockets. */
final class UnixSockets {
    private UnixSockets() {}

    /**
     * A connected channel to {@code socket}; on failure none is left open and the error names
     * {@code what} (e.g. "shim control socket") and the path.
     */
    static SocketChannel connect(Path socket, String what) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            ch.close();
            throw new IOException("connect to " + what + " " + socket + ": " + e.getMessage(), e);
        }
        return ch;
    }
}

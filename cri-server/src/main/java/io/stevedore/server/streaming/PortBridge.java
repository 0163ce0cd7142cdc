package io.stevedore.server.streaming;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One forwarded connection, whatever carries it: dials the pod's port, then copies both ways until
 * both directions ended; a client's end of input becomes a TCP half-close toward the pod, the pod's
 * end of output ends the client's data stream. A port that cannot be reached is reported on the
 * error stream and only this connection ends.
 */
final class PortBridge {
    private static final Logger log = LoggerFactory.getLogger(PortBridge.class);
    private static final int CHUNK = 256 << 10;

    private PortBridge() {}

    /**
     * Runs on the caller's (virtual) thread until the connection is done; then closes {@code toClient}
     * and {@code error}.
     */
    static void forward(
            StreamRuntime runtime,
            String pod,
            int port,
            InboundPipe fromClient,
            ChannelOutput toClient,
            OutputStream error) {
        SocketChannel ch;
        try {
            ch = runtime.connect(pod, port);
        } catch (IOException | RuntimeException e) {
            String msg = "error forwarding port " + port + " to pod " + pod + ": " + e.getMessage();
            log.atInfo().addKeyValue("podSandboxId", pod).log("{}", msg);
            writeQuietly(error, msg.getBytes(StandardCharsets.UTF_8));
            closeQuietly(toClient);
            closeQuietly(error);
            return;
        }
        // Both directions move pooled direct buffers: a socket read lands in the buffer the frame is
        // written from, and a client frame's buffer is written to the socket as it is.
        var alloc = toClient.channel().alloc();
        Thread podToClient = Thread.ofVirtual().name("portforward-out").start(() -> {
            try {
                for (; ; ) {
                    ByteBuf buf = alloc.directBuffer(CHUNK);
                    int n;
                    try {
                        n = buf.writeBytes(ch, CHUNK);
                    } catch (IOException e) {
                        buf.release();
                        throw e;
                    }
                    if (n < 0) {
                        buf.release();
                        break;
                    }
                    toClient.write(buf);
                }
            } catch (IOException e) {
                // the pod or the client closed: both ends are torn down below
            }
            closeQuietly(toClient);
        });
        try {
            ByteBuf chunk;
            while ((chunk = fromClient.readChunk()) != null) {
                try {
                    while (chunk.isReadable()) {
                        chunk.readBytes(ch, chunk.readableBytes());
                    }
                } finally {
                    chunk.release();
                }
            }
            ch.shutdownOutput(); // the client finished sending: pass the half-close on
            podToClient.join();
        } catch (IOException e) {
            // the client went away or the pod reset the connection
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closeQuietly(ch);
            try {
                podToClient.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            closeQuietly(error);
        }
    }

    private static void writeQuietly(OutputStream out, byte[] b) {
        try {
            out.write(b);
        } catch (IOException e) {
            // client gone
        }
    }

    static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            // nothing left to release
        }
    }
}

package io.stevedore.server.container;

import io.stevedore.server.streaming.CommandIo;
import io.stevedore.server.streaming.TerminalSizes;
import io.stevedore.shim.ShimAttach;
import io.stevedore.shim.ShimControl;
import io.stevedore.shim.ShimException;
import io.stevedore.shim.StdStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Attach through the shim's attach socket (see {@code shim/PROTOCOL.md}): the container's output
 * from now on, our client's input to its stdin, resizes through the control socket. The shim
 * serves several attachers at once and never stops the container when one leaves. With {@code
 * stdin_once}, the container's stdin is closed when the first attacher that had stdin leaves, as
 * the CRI says.
 */
final class StreamAttach {
    private static final Logger log = LoggerFactory.getLogger(StreamAttach.class);

    private StreamAttach() {}

    static void run(StreamTarget t, CommandIo io) throws IOException {
        boolean tty = t.config().getTty();
        boolean stdinOnce = t.config().getStdinOnce();
        boolean withStdin = io.stdin() != null && t.config().getStdin();
        try (ShimAttach shim = ShimAttach.connect(t.shimDir().resolve("attach.sock"))) {
            io.gone().thenRun(() -> {
                if (withStdin && stdinOnce) {
                    closeStdin(t, shim); // the first attacher left: the container's stdin ends
                }
                closeQuietly(shim);
            });
            Thread resizer = null;
            if (tty && io.resize() != null) {
                resizer = Thread.ofVirtual().name("attach-resize").start(() -> resize(t, io.resize()));
            }
            if (withStdin) {
                Thread.ofVirtual().name("attach-stdin").start(() -> {
                    byte[] buf = new byte[32 << 10];
                    try {
                        int n;
                        while ((n = io.stdin().read(buf)) >= 0) {
                            shim.writeStdin(java.util.Arrays.copyOf(buf, n));
                        }
                        if (stdinOnce) {
                            closeStdin(t, shim); // the client ended its input
                        }
                    } catch (IOException e) {
                        // the client left (handled where it is noticed) or the shim closed
                    }
                });
            }
            try {
                Optional<ShimAttach.Frame> f;
                while ((f = shim.read()).isPresent()) {
                    var frame = f.get();
                    OutputStream out = tty || frame.stream() == StdStream.STDOUT ? io.stdout() : io.stderr();
                    if (out != null) {
                        out.write(frame.data());
                    }
                }
            } catch (IOException e) {
                if (!io.gone().isDone()) {
                    log.atDebug().addKeyValue("containerId", t.id()).log("attach ended: {}", e.getMessage());
                }
            }
            closeQuietly(shim);
            // The input copier ends when the client's stdin does (at the latest when the session closes).
            if (resizer != null) {
                resizer.interrupt();
            }
        }
    }

    private static void closeStdin(StreamTarget t, ShimAttach shim) {
        try {
            shim.closeStdin();
        } catch (IOException e) {
            log.atDebug().addKeyValue("containerId", t.id()).log("closing stdin: {}", e.getMessage());
        }
    }

    private static void resize(StreamTarget t, TerminalSizes sizes) {
        try (ShimControl ctl = ShimControl.connect(t.shimDir().resolve("ctl.sock"))) {
            Optional<TerminalSizes.Size> s;
            while ((s = sizes.next()).isPresent()) {
                ctl.resize(s.get().height(), s.get().width());
            }
        } catch (IOException | ShimException e) {
            log.atDebug().addKeyValue("containerId", t.id()).log("resize: {}", e.getMessage());
        } catch (InterruptedException e) {
            // session over
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            // nothing more to release
        }
    }
}

package io.stevedore.server.streaming;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * port-forward over SPDY ({@code portforward.k8s.io}): each forwarded connection is a pair of
 * streams with the same {@code requestid} and {@code port} headers, an {@code error} stream and a
 * {@code data} stream. Many pairs run at once on one connection; a pair that stays incomplete for
 * {@link SpdyRemoteCommand#STREAM_CREATION_TIMEOUT_S} is dropped.
 */
final class SpdyPortForward implements SpdyConnection.App {
    private final StreamRuntime runtime;
    private final String pod;
    private final Sessions.Session session;
    private final Map<String, Pair> pending = new HashMap<>(); // event loop only

    private static final class Pair {
        SpdyConnection.Stream error;
        SpdyConnection.Stream data;
    }

    SpdyPortForward(StreamRuntime runtime, String pod, Sessions.Session session) {
        this.runtime = runtime;
        this.pod = pod;
        this.session = session;
    }

    @Override
    public void onStream(SpdyConnection conn, SpdyConnection.Stream s) {
        String type = s.header("streamtype");
        if (!type.equals("error") && !type.equals("data")) {
            s.reset();
            return;
        }
        String requestId = s.header("requestid");
        if (requestId.isEmpty()) {
            // Clients older than Kubernetes 1.6 send no request id: pairs are consecutive odd ids.
            requestId = Integer.toString(type.equals("error") ? s.id : s.id - 2);
        }
        Pair p = pending.computeIfAbsent(requestId, k -> new Pair());
        if (type.equals("error")) {
            p.error = s;
        } else {
            p.data = s;
        }
        String key = requestId;
        if (p.error == null || p.data == null) {
            conn.channel()
                    .eventLoop()
                    .schedule(
                            () -> {
                                Pair late = pending.remove(key);
                                if (late != null) {
                                    if (late.error != null) {
                                        late.error.reset();
                                    }
                                    if (late.data != null) {
                                        late.data.reset();
                                    }
                                }
                            },
                            SpdyRemoteCommand.STREAM_CREATION_TIMEOUT_S,
                            TimeUnit.SECONDS);
            return;
        }
        pending.remove(key);
        int port = parsePort(p.data.header("port"));
        Thread.ofVirtual().name("portforward").start(() -> {
            try {
                if (port < 0) {
                    p.error.out.write(
                            ("invalid port \"" + p.data.header("port") + "\"").getBytes(StandardCharsets.UTF_8));
                    p.error.out.close();
                    p.data.out.close();
                    return;
                }
                PortBridge.forward(runtime, pod, port, p.data.in, p.data.out, p.error.out);
            } catch (java.io.IOException e) {
                // client gone
            } finally {
                conn.release(p.error);
                conn.release(p.data);
            }
        });
    }

    static int parsePort(String s) {
        try {
            int port = Integer.parseInt(s.strip());
            return port >= 1 && port <= 65535 ? port : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    @Override
    public void onClose() {
        pending.clear();
        session.gone.complete(null);
    }
}

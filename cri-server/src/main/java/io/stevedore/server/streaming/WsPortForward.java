package io.stevedore.server.streaming;

import io.netty.channel.ChannelPipeline;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * port-forward over a WebSocket, the kubelet's layout: the ports come in the query ({@code
 * ?port=80&port=8080}); port {@code i} gets data channel {@code 2i} and error channel {@code
 * 2i+1}, each opened with the port as two little-endian bytes. One connection per port, dialled
 * at once; the session ends when every one of them has.
 */
final class WsPortForward {
    private WsPortForward() {}

    static void start(
            ChannelPipeline p,
            String after,
            StreamRuntime runtime,
            String pod,
            List<Integer> ports,
            Protocols.Version version,
            Sessions.Session session) {
        int n = ports.size() * 2;
        boolean[] readable = new boolean[n];
        boolean[] writable = new boolean[n];
        for (int i = 0; i < ports.size(); i++) {
            readable[2 * i] = true;
            writable[2 * i] = true;
            writable[2 * i + 1] = true;
        }
        var channels = new WsChannels(
                p.channel(), version, readable, writable, new boolean[n], null, () -> session.gone.complete(null));
        p.addAfter(after, "ws-channels", channels);
        var left = new AtomicInteger(ports.size());
        for (int i = 0; i < ports.size(); i++) {
            int port = ports.get(i);
            int data = 2 * i;
            channels.send(data, WsChannels.portPrefix(port));
            channels.send(data + 1, WsChannels.portPrefix(port));
            Thread.ofVirtual().name("portforward").start(() -> {
                PortBridge.forward(runtime, pod, port, channels.in(data), channels.out(data), channels.out(data + 1));
                if (left.decrementAndGet() == 0) {
                    session.finish();
                }
            });
        }
    }
}

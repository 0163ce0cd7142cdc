package io.stevedore.server.streaming;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.socket.DuplexChannel;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The streaming sessions open now, counted and bounded, each under the container or pod it
 * belongs to so that stopping or removing that ends them.
 *
 * <p>Thread-safe.
 */
final class Sessions {
    /** One session: its connection and the signal its runtime side waits on. */
    static final class Session {
        final String owner;
        final String pod;
        final Channel channel;
        final CompletableFuture<Void> gone = new CompletableFuture<>();
        /** What the protocol says last before the end of the connection (a WebSocket close), or null. */
        volatile java.util.function.Supplier<Object> goodbye;

        Session(String owner, String pod, Channel channel) {
            this.owner = owner;
            this.pod = pod;
            this.channel = channel;
        }

        /**
         * Ends the connection after what was written: our side sends FIN and the socket is closed when
         * the client closes too, or after a grace period. Closing at once could turn into a TCP reset
         * that loses the tail of the output when the client still had bytes in flight to us.
         */
        void finish() {
            if (!channel.isActive()) {
                return;
            }
            var last = goodbye;
            channel.writeAndFlush(last != null ? last.get() : io.netty.buffer.Unpooled.EMPTY_BUFFER)
                    .addListener((ChannelFutureListener) f -> {
                        if (channel instanceof DuplexChannel d && !d.isOutputShutdown()) {
                            d.shutdownOutput();
                        }
                        channel.eventLoop().schedule(() -> channel.close(), 5, TimeUnit.SECONDS);
                    });
        }

        /** Ends it now (stop/remove of its owner, daemon shutdown). */
        void kill() {
            gone.complete(null);
            channel.close();
        }
    }

    private final int max;
    private final AtomicInteger open = new AtomicInteger();
    private final Set<Session> all = ConcurrentHashMap.newKeySet();

    Sessions(int max) {
        this.max = max;
    }

    /** Opens a session, or returns null when {@code max} are open already. */
    Session open(String owner, String pod, Channel channel) {
        if (open.incrementAndGet() > max) {
            open.decrementAndGet();
            return null;
        }
        Session s = new Session(owner, pod, channel);
        all.add(s);
        channel.closeFuture().addListener(f -> {
            s.gone.complete(null);
            if (all.remove(s)) {
                open.decrementAndGet();
            }
        });
        return s;
    }

    int size() {
        return open.get();
    }

    /** Ends every session of a container, or of a pod and its containers. */
    void endFor(String id) {
        for (Session s : all) {
            if (!id.isEmpty() && (s.owner.startsWith(id) || s.pod.startsWith(id))) { // ids may be unique prefixes
                s.kill();
            }
        }
    }

    void endAll() {
        all.forEach(Session::kill);
    }
}

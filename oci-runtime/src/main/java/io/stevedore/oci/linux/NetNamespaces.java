package io.stevedore.oci.linux;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.StandardProtocolFamily;
import java.nio.channels.Channel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sockets created inside another network namespace, such as a pod's: what port-forward needs to
 * reach {@code 127.0.0.1} of the pod.
 *
 * <p>A socket belongs to the network namespace of the thread that created it, for its whole life;
 * {@code connect}, {@code bind} and all I/O then work from any thread. So, as containerd's {@code
 * netns.Do}, the socket is made on a thread that has entered the namespace with {@code setns(2)}
 * and returns to its own right after. Unlike Go, which has to lock a goroutine to its OS thread,
 * each call here uses a fresh, short-lived platform thread of its own: never the caller's thread
 * (which may be a virtual thread, or a carrier that runs others) and never a pooled one. That
 * thread runs nothing but the open; should it fail to return to its original namespace, it reports
 * the error and ends, so no other code ever runs in the wrong namespace.
 *
 * <p>Needs {@code CAP_SYS_ADMIN} (root). Thread-safe. The caller owns each returned channel.
 */
public final class NetNamespaces {
    private static final int CLONE_NEWNET = 0x40000000;
    private static final String SELF = "/proc/thread-self/ns/net";
    private static final AtomicLong THREADS = new AtomicLong();

    private NetNamespaces() {}

    /**
     * Opens an unconnected TCP {@link SocketChannel} (blocking mode, as {@link SocketChannel#open}
     * makes it) whose socket lives in the network namespace pinned at {@code netnsPath}: an nsfs
     * file such as {@code /var/run/netns/NAME} from {@code ip netns add}, a CNI plugin's pin, or
     * {@code /proc/PID/ns/net}. Connect it to the pod's addresses, {@code 127.0.0.1} included.
     *
     * @throws IOException naming {@code netnsPath}: a {@link SyscallException} with {@code ENOENT}
     *     when the pin is missing, {@code EINVAL} when it is not a network namespace, {@code EPERM}
     *     without {@code CAP_SYS_ADMIN}; an {@link InterruptedIOException} (interrupt status set) if
     *     the caller was interrupted while waiting, in which case the socket is closed when it comes
     */
    public static SocketChannel openTcp(Path netnsPath, StandardProtocolFamily family) throws IOException {
        Objects.requireNonNull(family, "family");
        return openIn(netnsPath, () -> SocketChannel.open(family));
    }

    /** Makes a channel; runs inside the target namespace. */
    @FunctionalInterface
    interface Opener<T extends Channel> {
        T open() throws IOException;
    }

    /**
     * Runs {@code opener} on a new platform thread inside the network namespace at {@code netnsPath}
     * and returns its channel. The opener must only create the channel (anything else it does also
     * happens in that namespace) and must not keep the thread.
     */
    static <T extends Channel> T openIn(Path netnsPath, Opener<T> opener) throws IOException {
        Objects.requireNonNull(netnsPath, "netnsPath");
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread.ofPlatform()
                .name("netns-open-" + THREADS.incrementAndGet())
                .daemon(true)
                .start(() -> openOnThisThread(netnsPath, opener, result));
        try {
            return result.get();
        } catch (InterruptedException e) {
            result.thenAccept(NetNamespaces::closeQuietly); // nobody will take it
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted opening a socket in network namespace " + netnsPath);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof SyscallException se) {
                throw se;
            }
            if (cause instanceof IOException io) {
                throw new IOException("socket in network namespace " + netnsPath + ": " + io.getMessage(), io);
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IOException("socket in network namespace " + netnsPath, cause);
        }
    }

    /** The body of the single-use thread. Completes {@code result} in every case. */
    private static <T extends Channel> void openOnThisThread(
            Path netnsPath, Opener<T> opener, CompletableFuture<T> result) {
        int self = -1;
        int target = -1;
        try {
            // The JDK caches facts about the network (IPv6 availability, among others) on first use:
            // learn them in our own namespace, never in the target.
            JdkNet.initialized();
            self = Libc.open(SELF, Libc.O_RDONLY | Libc.O_CLOEXEC, "own netns");
            target = Libc.open(netnsPath.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC, "netns");
            int r = Libc.rawSetns(target, CLONE_NEWNET);
            if (r < 0) {
                throw new SyscallException("setns CLONE_NEWNET", netnsPath, -r);
            }
            T channel = null;
            Throwable failure = null;
            try {
                channel = opener.open();
            } catch (Throwable t) {
                failure = t;
            }
            r = Libc.rawSetns(self, CLONE_NEWNET);
            if (r < 0) {
                // This thread is stuck in the target namespace: it runs nothing more and ends below.
                closeQuietly(channel);
                SyscallException e =
                        new SyscallException("setns back to the original netns, after entering", netnsPath, -r);
                if (failure != null) {
                    e.addSuppressed(failure);
                }
                throw e;
            }
            if (failure != null) {
                throw failure;
            }
            result.complete(channel);
        } catch (Throwable t) {
            result.completeExceptionally(t);
        } finally {
            if (target >= 0) {
                Libc.rawClose(target);
            }
            if (self >= 0) {
                Libc.rawClose(self);
            }
        }
    }

    private static void closeQuietly(Channel c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException | RuntimeException ignored) {
                // best effort: it was never handed out
            }
        }
    }

    /** Initialised once, by the first opener thread, before it leaves the process's namespace. */
    private static final class JdkNet {
        static {
            try {
                java.net.InetAddress.getLoopbackAddress();
                SocketChannel.open().close();
            } catch (IOException | RuntimeException ignored) {
                // only the JDK's one-time discovery matters here, not whether this socket could be made
            }
        }

        static void initialized() {}
    }
}

package io.stevedore.server.grpc;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.stevedore.server.error.CriException;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * The one edge every CRI call passes through (containerd's {@code instrumentedService}, written
 * once): it refuses calls until start-up recovery is done, logs each call once at the level the
 * caller chose (INFO for mutating RPCs, DEBUG for the polling ones kubelet sends every second),
 * and turns any exception into a gRPC status through {@link StatusMapping}.
 *
 * <p>Handlers run on virtual threads, so a body may block on runc, CNI or disk I/O.
 */
public final class Rpc {
    private static final Logger log = LoggerFactory.getLogger(Rpc.class);

    private final BooleanSupplier ready;

    /** @param ready true once recovery has finished; until then every call is UNAVAILABLE */
    public Rpc(BooleanSupplier ready) {
        this.ready = ready;
    }

    /** A unary call: runs {@code body} and sends its result, or the mapped error. */
    public <T> void unary(String method, Level level, String requestId, StreamObserver<T> out, Callable<T> body) {
        if (!admit(method, out)) {
            return;
        }
        String id = CriException.shown(requestId); // the client's input: cut before it reaches the log
        log.atLevel(level).addKeyValue("rpc", method).addKeyValue("id", id).log("{} start", method);
        T res;
        try {
            res = body.call();
        } catch (Exception | StackOverflowError | OutOfMemoryError e) {
            // Errors too: one request that overflows the stack or asks for a huge buffer must get an
            // answer and a log line, not gRPC's anonymous "Application error processing RPC".
            fail(method, id, out, e);
            return;
        }
        out.onNext(res);
        out.onCompleted();
        log.atLevel(level).addKeyValue("rpc", method).addKeyValue("id", id).log("{} done", method);
    }

    /**
     * A server-streaming call: {@code body} sends any number of messages through the consumer; the
     * stream is completed when it returns, or failed with the mapped error when it throws.
     */
    public <T> void serverStream(String method, Level level, StreamObserver<T> out, StreamBody<T> body) {
        if (!admit(method, out)) {
            return;
        }
        log.atLevel(level).addKeyValue("rpc", method).log("{} start", method);
        try {
            body.run(out::onNext);
        } catch (Exception | StackOverflowError | OutOfMemoryError e) {
            fail(method, "", out, e);
            return;
        }
        out.onCompleted();
        log.atLevel(level).addKeyValue("rpc", method).log("{} done", method);
    }

    <T> boolean admit(String method, StreamObserver<T> out) {
        if (ready.getAsBoolean()) {
            return true;
        }
        log.atDebug().addKeyValue("rpc", method).log("{} refused: not initialized", method);
        out.onError(Status.UNAVAILABLE
                .withDescription("server is not initialized yet")
                .asRuntimeException());
        return false;
    }

    <T> void fail(String method, String id, StreamObserver<T> out, Throwable e) {
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
        }
        Status st = StatusMapping.toStatus(e);
        // Client errors are the caller's business; only unclassified failures carry a stack trace.
        var event = st.getCode() == Status.Code.INTERNAL ? log.atWarn().setCause(e) : log.atInfo();
        event.addKeyValue("rpc", method)
                .addKeyValue("id", id)
                .addKeyValue("code", st.getCode())
                .log("{} failed: {}", method, st.getDescription());
        if (out instanceof ServerCallStreamObserver<T> s && s.isCancelled()) {
            return; // nobody is listening any more
        }
        out.onError(st.asRuntimeException());
    }

    /** The body of a server-streaming call. */
    @FunctionalInterface
    public interface StreamBody<T> {
        void run(Consumer<T> send) throws Exception;
    }
}

package io.stevedore.server.grpc;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.stevedore.cri.v1.ContainerEventResponse;
import io.stevedore.server.events.EventBus;
import io.stevedore.server.events.Subscription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GetContainerEvents: one {@link Subscription} forwarded to one gRPC stream, without a thread of
 * its own and without ever waiting. Events are handed to gRPC only while the stream {@link
 * ServerCallStreamObserver#isReady is ready} (its client reads); the rest wait in the
 * subscription's bounded buffer, and gRPC's onReady callback sends them on. A client that stops
 * reading fills that buffer and is dropped: its stream ends with RESOURCE_EXHAUSTED. A client
 * that leaves (cancels) unsubscribes. The stream ends OK when the daemon shuts down.
 */
final class EventStream {
    private static final Logger log = LoggerFactory.getLogger(EventStream.class);
    static final String METHOD = "GetContainerEvents";

    private final Subscription sub;
    private final ServerCallStreamObserver<ContainerEventResponse> out;
    private boolean done; // guarded by this

    private EventStream(Subscription sub, ServerCallStreamObserver<ContainerEventResponse> out) {
        this.sub = sub;
        this.out = out;
    }

    /** Subscribes the caller; returns at once (the stream lives on in gRPC's callbacks). */
    static void serve(Rpc rpc, EventBus bus, StreamObserver<ContainerEventResponse> observer) {
        if (!rpc.admit(METHOD, observer)) return;
        var out = (ServerCallStreamObserver<ContainerEventResponse>) observer;
        Subscription sub;
        try {
            sub = bus.subscribe();
        } catch (RuntimeException e) {
            rpc.fail(METHOD, "", observer, e);
            return;
        }
        log.atInfo().addKeyValue("rpc", METHOD).log("{} start", METHOD);
        var stream = new EventStream(sub, out);
        // One message in gRPC's own buffer at a time (its default lets 32 KiB pile up unseen):
        // what a slow client has not read waits in the subscription, where it is counted.
        out.setOnReadyThreshold(1);
        out.setOnCancelHandler(() -> {
            sub.close();
            log.atInfo().addKeyValue("rpc", METHOD).log("{} done: the client left", METHOD);
        });
        out.setOnReadyHandler(stream::drain);
        sub.onChange(stream::drain);
    }

    /** Sends what the client can take now, then the end once everything before it is sent. */
    private synchronized void drain() {
        if (done) return;
        try {
            ContainerEventResponse e;
            while (out.isReady() && (e = sub.poll()) != null) {
                out.onNext(e);
            }
            var end = sub.ended();
            if (end.isEmpty()) return;
            done = true;
            switch (end.get()) {
                case FELL_BEHIND -> {
                    log.atInfo().addKeyValue("rpc", METHOD).log("{} done: the client fell behind", METHOD);
                    out.onError(Status.RESOURCE_EXHAUSTED
                            .withDescription("container events: this subscriber fell more than " + sub.capacity()
                                    + " events behind and was dropped; subscribe again and relist")
                            .asRuntimeException());
                }
                case SHUT_DOWN -> {
                    log.atInfo().addKeyValue("rpc", METHOD).log("{} done: shutting down", METHOD);
                    out.onCompleted();
                }
            }
        } catch (RuntimeException e) { // the call is gone (cancelled, closed): nobody to tell
            done = true;
            sub.close();
            log.atDebug().addKeyValue("rpc", METHOD).log("{} ended: {}", METHOD, e.toString());
        }
    }
}

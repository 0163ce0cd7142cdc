package io.stevedore.server.grpc;

import io.grpc.BindableService;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.stevedore.cri.v1.RuntimeServiceGrpc;

/**
 * Sends a subscription's response headers as soon as its handler has subscribed, instead of with
 * the first event (gRPC's default), so a client knows when it is subscribed: the events of what it
 * does after seeing the headers reach it. The call's outbound operations are serialized here,
 * since the headers go from gRPC's thread and the events from the bus's.
 */
public final class EarlyHeaders implements ServerInterceptor {
    private final MethodDescriptor<?, ?> method;

    /** The runtime service, GetContainerEvents sending its headers as soon as it has subscribed. */
    public static BindableService around(RuntimeGrpcService runtime) {
        var headers = new EarlyHeaders(RuntimeServiceGrpc.getGetContainerEventsMethod());
        return () -> ServerInterceptors.intercept(runtime, headers);
    }

    EarlyHeaders(MethodDescriptor<?, ?> method) {
        this.method = method;
    }

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(
            ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        if (!call.getMethodDescriptor().getFullMethodName().equals(method.getFullMethodName())) {
            return next.startCall(call, headers);
        }
        var once = new Once<>(call);
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(once, headers)) {
            @Override
            public void onHalfClose() {
                super.onHalfClose(); // the handler runs, and subscribes, here
                once.sendHeaders(new Metadata());
            }
        };
    }

    /** A call whose headers go once, whoever asks first, and never after it is closed. */
    private static final class Once<Q, A> extends ForwardingServerCall.SimpleForwardingServerCall<Q, A> {
        private boolean sent; // guarded by this

        Once(ServerCall<Q, A> call) {
            super(call);
        }

        @Override
        public synchronized void sendHeaders(Metadata headers) {
            if (sent) return;
            sent = true;
            super.sendHeaders(headers);
        }

        @Override
        public synchronized void sendMessage(A message) {
            super.sendMessage(message);
        }

        @Override
        public synchronized void close(Status status, Metadata trailers) {
            sent = true;
            super.close(status, trailers);
        }
    }
}

package io.stevedore.server.streaming;

import io.stevedore.cri.v1.AttachRequest;
import io.stevedore.cri.v1.ExecRequest;
import java.io.IOException;
import java.nio.channels.SocketChannel;

/**
 * What the streaming server asks of the container and pod services once a client connected. The
 * server owns the protocols; implementations own processes, shims and namespaces. Calls block
 * (they run on the session's own threads, never on an event loop or a gRPC handler).
 */
public interface StreamRuntime {
    /** Whom a session belongs to: full ids (a request may name a unique prefix). */
    record Owner(String id, String pod) {}

    /** Validates an Exec request before its URL is handed out (NOT_FOUND, FAILED_PRECONDITION…). */
    Owner checkExec(ExecRequest req);

    /** Validates an Attach request before its URL is handed out. */
    Owner checkAttach(AttachRequest req);

    /** Validates a PortForward request's pod before its URL is handed out. */
    Owner checkPortForward(String podSandboxId);

    /**
     * Runs the command in the container, copying between it and {@code io} until it exits and its
     * output is drained; returns its exit code (128+signal when killed). When {@code io.gone()}
     * completes first, the process and its descendants are killed and nothing is left behind.
     */
    int exec(ExecRequest req, CommandIo io) throws Exception;

    /**
     * Attaches {@code io} to the container's own stdio until the container exits or the client
     * leaves; never stops the container.
     */
    void attach(AttachRequest req, CommandIo io) throws Exception;

    /**
     * A TCP connection to {@code localhost:port} inside the pod's network namespace (the host's for
     * host-network pods), IPv4 first then IPv6.
     */
    SocketChannel connect(String podSandboxId, int port) throws IOException;
}

package io.stevedore.server;

/** The daemon cannot start, for a reason the operator must fix; the message says which. */
public final class DaemonStartException extends Exception {
    public DaemonStartException(String message) {
        super(message);
    }

    public DaemonStartException(String message, Throwable cause) {
        super(message, cause);
    }
}

package io.stevedore.server.error;

/**
 * The errors domain code throws inside the daemon. The subclass decides the gRPC code in one
 * place ({@code StatusMapping}); the message is what the client sees, so it quotes the id and
 * names the action: {@code start container "abc": sandbox "def" is not ready}.
 *
 * <p>When wrapping, the outermost {@code CriException} wins, as containerd's error resolution does.
 */
public abstract sealed class CriException extends RuntimeException {
    CriException(String message, Throwable cause) {
        super(message, cause);
    }

    /**
     * A request's value as an error message may echo it: at most 64 characters, control characters
     * shown as '?'. The value is the caller's, possibly megabytes long or with a newline in it.
     */
    public static String shown(String value) {
        String cut = value.length() > 64 ? value.substring(0, 64) + "…" : value;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }

    /** The object named in the request does not exist. */
    public static final class NotFound extends CriException {
        public NotFound(String message) {
            super(message, null);
        }
    }

    /** The request itself is malformed: a missing field, a bad value. */
    public static final class InvalidArgument extends CriException {
        public InvalidArgument(String message) {
            super(message, null);
        }
    }

    /** The object is not in a state that allows the operation, or a name is taken. */
    public static final class FailedPrecondition extends CriException {
        public FailedPrecondition(String message) {
            super(message, null);
        }
    }

    /** The operation ran out of its own time (an exec past its timeout). */
    public static final class DeadlineExceeded extends CriException {
        public DeadlineExceeded(String message) {
            super(message, null);
        }
    }

    /** The daemon cannot serve this now (recovering, a shim unreachable); a retry may succeed. */
    public static final class Unavailable extends CriException {
        public Unavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** A bounded resource is full (pending streaming tokens, sessions); a later retry may succeed. */
    public static final class ResourceExhausted extends CriException {
        public ResourceExhausted(String message) {
            super(message, null);
        }
    }

    /** The operation is part of the CRI but this daemon does not implement it (yet). */
    public static final class Unimplemented extends CriException {
        public Unimplemented(String message) {
            super(message, null);
        }
    }
}

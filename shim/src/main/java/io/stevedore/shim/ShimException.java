package io.stevedore.shim;

import java.util.Optional;

/**
 * A shim could not be launched or refused a request. The message names the action and the
 * container; {@link #runtimeMessage()} carries the OCI runtime's own output when the failure
 * came from {@code <runtime> create}, so callers can forward it unchanged (as CRI-O does).
 */
public final class ShimException extends Exception {
    private static final long serialVersionUID = 1L;
    private final String runtimeMessage;

    public ShimException(String message, String runtimeMessage, Throwable cause) {
        super(message, cause);
        this.runtimeMessage = runtimeMessage;
    }

    public ShimException(String message) {
        this(message, null, null);
    }

    /** The text the shim reported in its {@code {"error":…}} sync message, if any. */
    public Optional<String> runtimeMessage() {
        return Optional.ofNullable(runtimeMessage);
    }
}

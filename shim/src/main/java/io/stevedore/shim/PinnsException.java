package io.stevedore.shim;

import java.util.Optional;

/**
 * {@code stevedore-pinns} could not be run or failed. The message names the action and the
 * sandbox; {@link #toolMessage()} carries the tool's own one-line error (its stderr), so callers
 * can forward it unchanged.
 */
public final class PinnsException extends Exception {
    private static final long serialVersionUID = 1L;
    private final String toolMessage;

    public PinnsException(String message, String toolMessage, Throwable cause) {
        super(message, cause);
        this.toolMessage = toolMessage;
    }

    /** What {@code stevedore-pinns} printed on stderr, if it ran and printed anything. */
    public Optional<String> toolMessage() {
        return Optional.ofNullable(toolMessage);
    }
}

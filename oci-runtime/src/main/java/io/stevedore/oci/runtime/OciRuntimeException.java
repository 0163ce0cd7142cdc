package io.stevedore.oci.runtime;

import java.util.Optional;
import java.util.OptionalInt;

/**
 * An OCI runtime command failed. The message names the runtime, the action and the container and
 * carries the runtime's own error text, the way CRI-O reports it:
 * {@code runc start "abc" failed: container does not exist}. The text comes from the last
 * {@code "level":"error"} line of the runtime's JSON log, else from its stderr.
 *
 * <p>The subclasses classify the failures a caller acts on: {@link NotFound} (no such container),
 * {@link NotRunning} (signal to a stopped container) and {@link TimedOut} (the runtime was killed).
 * Instances are immutable.
 *
 * {@snippet :
 * try {
 *   runtime.kill(id, 15, false);
 * } catch (OciRuntimeException.NotFound | OciRuntimeException.NotRunning e) {
 *   // already gone or already stopped: nothing to signal
 * }
 * }
 */
public sealed class OciRuntimeException extends Exception
        permits OciRuntimeException.NotFound, OciRuntimeException.NotRunning, OciRuntimeException.TimedOut {
    private final String action;
    private final String containerId;
    private final String runtimeMessage;
    private final int exitCode;

    /**
     * @param action the runtime subcommand, e.g. {@code start}
     * @param containerId null for commands without one ({@code list}, {@code features})
     * @param runtimeMessage the runtime's own error text, as reported
     * @param exitCode the runtime's exit status, or -1 when it did not exit by itself
     */
    public OciRuntimeException(
            String runtime, String action, String containerId, String runtimeMessage, int exitCode, Throwable cause) {
        super(describe(runtime, action, containerId) + " failed: " + runtimeMessage, cause);
        this.action = action;
        this.containerId = containerId;
        this.runtimeMessage = runtimeMessage;
        this.exitCode = exitCode;
    }

    static String describe(String runtime, String action, String containerId) {
        return containerId == null ? runtime + " " + action : runtime + " " + action + " \"" + containerId + "\"";
    }

    /** The runtime subcommand that failed, e.g. {@code start}. */
    public String action() {
        return action;
    }

    public Optional<String> containerId() {
        return Optional.ofNullable(containerId);
    }

    /** The runtime's own error text, without our prefix. */
    public String runtimeMessage() {
        return runtimeMessage;
    }

    /** The runtime's exit status; empty when it was killed or never started. */
    public OptionalInt exitCode() {
        return exitCode < 0 ? OptionalInt.empty() : OptionalInt.of(exitCode);
    }

    /** The runtime does not know the container. */
    public static final class NotFound extends OciRuntimeException {
        public NotFound(String runtime, String action, String containerId, String runtimeMessage, int exitCode) {
            super(runtime, action, containerId, runtimeMessage, exitCode, null);
        }
    }

    /** The container exists but is not running, so it cannot be signalled, paused or exec'd into. */
    public static final class NotRunning extends OciRuntimeException {
        public NotRunning(String runtime, String action, String containerId, String runtimeMessage, int exitCode) {
            super(runtime, action, containerId, runtimeMessage, exitCode, null);
        }
    }

    /** The runtime did not finish in time and was killed (with its descendants). */
    public static final class TimedOut extends OciRuntimeException {
        public TimedOut(String runtime, String action, String containerId, String runtimeMessage) {
            super(runtime, action, containerId, runtimeMessage, -1, null);
        }
    }
}

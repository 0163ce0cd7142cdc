package io.stevedore.cni;

import java.util.Optional;

/**
 * A CNI operation failed. The message names the action (for example {@code add network "k8s-pod-network"
 * for container "abc": plugin type="bridge" failed: ...}); when a plugin reported a CNI error object it is
 * available as {@link #pluginError()} and its code, message and details are part of the message.
 *
 * <p>Instances are immutable.
 */
public class CniException extends Exception {
    private final transient PluginError pluginError;

    public CniException(String message) {
        this(message, null, null);
    }

    public CniException(String message, Throwable cause) {
        this(message, null, cause);
    }

    public CniException(String message, PluginError pluginError, Throwable cause) {
        super(message, cause);
        this.pluginError = pluginError;
    }

    /** The error object the plugin printed, if this failure came from a plugin that printed one. */
    public Optional<PluginError> pluginError() {
        if (pluginError != null) {
            return Optional.of(pluginError);
        }
        return getCause() instanceof CniException c ? c.pluginError() : Optional.empty();
    }

    /** Wraps this exception with a description of the enclosing action, keeping the plugin error. */
    public CniException within(String action) {
        return new CniException(action + ": " + getMessage(), pluginError, this);
    }
}

package io.stevedore.cni;

/**
 * The error object a CNI plugin prints on stdout when it fails ({@code {"code":..,"msg":..,"details":..}}).
 * Codes 1–99 are reserved by the CNI specification (for example 7 "invalid network config", 11 "try again
 * later", 50 "plugin not available", 51 "plugin not available, limited connectivity").
 *
 * @param code the error code, 0 when the plugin printed none
 * @param msg a short message, never {@code null}
 * @param details longer details, never {@code null} (empty when absent)
 */
public record PluginError(int code, String msg, String details) {
    public PluginError {
        msg = msg == null ? "" : msg;
        details = details == null ? "" : details;
    }

    /** {@code msg; details (code N)}, the form carried into exception messages. */
    public String describe() {
        var sb = new StringBuilder(msg);
        if (!details.isEmpty()) {
            sb.append("; ").append(details);
        }
        return sb.append(" (code ").append(code).append(')').toString();
    }
}

package io.stevedore.oci.runtime;

import java.util.Optional;

/** What one finished runtime process left: exit status, captured output and the log's last error. */
record Outcome(int exitCode, String stdout, String stderr, Optional<String> logError) {
    /** The runtime's own words for the failure: its JSON log, else stderr, else the exit status. */
    String message() {
        if (logError.isPresent()) {
            return logError.get();
        }
        if (!stderr.isBlank()) {
            return stderr.strip();
        }
        return "exit status " + exitCode;
    }

    /**
     * {@link #message()} without the "runc create failed: " that runc puts before some messages: our
     * exception says that already.
     */
    String message(String runtime, String action) {
        String msg = message();
        String prefix = runtime + " " + action + " failed: ";
        return msg.startsWith(prefix) ? msg.substring(prefix.length()) : msg;
    }
}

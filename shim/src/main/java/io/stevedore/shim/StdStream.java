package io.stevedore.shim;

/** The container output stream a CRI log line or an attach frame belongs to. */
public enum StdStream {
    STDOUT,
    STDERR;

    /** The name used in CRI log lines: {@code stdout} or {@code stderr}. */
    public String criName() {
        return this == STDOUT ? "stdout" : "stderr";
    }
}

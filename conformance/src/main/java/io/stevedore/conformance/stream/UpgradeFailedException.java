package io.stevedore.conformance.stream;

import java.io.IOException;

/** The server answered an upgrade request (SPDY or WebSocket) with something other than 101. */
public final class UpgradeFailedException extends IOException {
    private final int status;
    private final String body;

    public UpgradeFailedException(int status, String body) {
        super("upgrade refused: HTTP " + status + (body.isEmpty() ? "" : ": " + body.strip()));
        this.status = status;
        this.body = body;
    }

    /** The HTTP status code of the answer, e.g. 404 for an unknown or used token. */
    public int status() {
        return status;
    }

    /** The answer's body, as text. */
    public String body() {
        return body;
    }
}

package io.stevedore.server.image.registry;

/**
 * A registry request failed. The message names the action, the endpoint(s) and what each said
 * ({@code fetch blob sha256:… from http://127.0.0.1:5000: 404 BLOB_UNKNOWN: blob unknown to
 * registry}); it never contains credentials.
 */
public final class RegistryException extends Exception {
    private final int status;
    private final boolean notFound;

    public RegistryException(String message, int status, boolean notFound, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.notFound = notFound;
    }

    /** The last HTTP status seen, or 0 when no endpoint answered. */
    public int status() {
        return status;
    }

    /** Whether every endpoint tried answered 404: the image or blob does not exist there. */
    public boolean isNotFound() {
        return notFound;
    }
}

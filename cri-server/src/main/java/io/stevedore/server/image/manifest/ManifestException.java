package io.stevedore.server.image.manifest;

/** A manifest, index or image config that we cannot use: unsupported type, malformed or too big. */
public final class ManifestException extends Exception {
    public ManifestException(String message) {
        super(message);
    }

    public ManifestException(String message, Throwable cause) {
        super(message, cause);
    }
}

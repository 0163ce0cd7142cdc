package io.stevedore.server.image.unpack;

/** A layer is malformed or hostile; the message names the entry. Nothing was kept. */
public final class UnpackException extends Exception {
    public UnpackException(String message) {
        super(message);
    }
}

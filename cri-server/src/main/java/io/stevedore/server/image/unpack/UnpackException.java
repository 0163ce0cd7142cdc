package io.stevedore.server.image.unpack;

/** A layer is malformed or hostile, or too large; the message names the entry or the limit. Nothing was kept. */
public class UnpackException extends Exception {
    public UnpackException(String message) {
        super(message);
    }
}

package io.stevedore.server.image.content;

import java.io.IOException;

/** Content did not match its descriptor (size or digest); nothing was stored. */
public final class ContentException extends IOException {
    public ContentException(String message) {
        super(message);
    }
}

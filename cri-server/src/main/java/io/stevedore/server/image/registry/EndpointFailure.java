package io.stevedore.server.image.registry;

/**
 * Why one endpoint failed a request; {@code fallback} says whether the next endpoint may do better
 * (unreachable, 5xx, 429, 404, bad content) or the error would be the same there (401, too big).
 * {@code status} is the HTTP status, 0 when there was none.
 */
final class EndpointFailure extends Exception {
    final int status;
    final boolean fallback;

    EndpointFailure(String message, int status, boolean fallback) {
        super(message);
        this.status = status;
        this.fallback = fallback;
    }
}

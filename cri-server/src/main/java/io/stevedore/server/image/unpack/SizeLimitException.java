package io.stevedore.server.image.unpack;

/** Unpacking would write more than a configured limit allows ({@link UnpackBudget}). */
public final class SizeLimitException extends UnpackException {
    private final String setting;
    private final long limit;

    SizeLimitException(String setting, long limit) {
        super("unpacked size exceeds " + setting + " (" + limit + " bytes)");
        this.setting = setting;
        this.limit = limit;
    }

    /** The configuration key of the limit, e.g. {@code image.max_layer_size}. */
    public String setting() {
        return setting;
    }

    public long limit() {
        return limit;
    }
}

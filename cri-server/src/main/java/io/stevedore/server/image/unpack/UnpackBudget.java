package io.stevedore.server.image.unpack;

import java.util.concurrent.atomic.AtomicLong;

/**
 * How many bytes unpacking may still write, so that a layer that decompresses to far more than it
 * weighs (a gzip bomb) fails its pull instead of filling the disk. A layer's budget has a limit of
 * its own and charges its image's budget too, which every layer a pull unpacks shares. What is
 * counted is what the unpacker writes: file contents, plus a tar block (512 bytes) per entry for
 * the inode and directory entry it makes, plus extended attribute values; never the compressed
 * stream. Thread-safe: the layers of one pull unpack at once.
 *
 * {@snippet :
 * var image = UnpackBudget.of(64L << 30, "image.max_image_size");
 * unpacker.unpack(tar, dir, image.layer(32L << 30, "image.max_layer_size"));
 * }
 */
public final class UnpackBudget {
    private final UnpackBudget parent;
    private final long limit;
    private final String setting;
    private final AtomicLong used = new AtomicLong();

    private UnpackBudget(UnpackBudget parent, long limit, String setting) {
        if (limit < 0) {
            throw new IllegalArgumentException(setting + " must not be negative");
        }
        this.parent = parent;
        this.limit = limit;
        this.setting = setting;
    }

    /** No limit at all (tests, and callers that bound the input some other way). */
    public static UnpackBudget unlimited() {
        return new UnpackBudget(null, Long.MAX_VALUE, "no limit");
    }

    /**
     * @param limit bytes that may be written in all
     * @param setting the configuration key that set it, for the message
     */
    public static UnpackBudget of(long limit, String setting) {
        return new UnpackBudget(null, limit, setting);
    }

    /** A budget for one layer, limited to {@code limit} bytes and charging this one as well. */
    public UnpackBudget layer(long limit, String setting) {
        return new UnpackBudget(this, limit, setting);
    }

    /** Bytes charged so far. */
    public long used() {
        return used.get();
    }

    /** Records {@code bytes} about to be written; throws, before they are, when a limit is passed. */
    void charge(long bytes) throws SizeLimitException {
        if (used.addAndGet(bytes) > limit) {
            throw new SizeLimitException(setting, limit);
        }
        if (parent != null) {
            parent.charge(bytes);
        }
    }
}

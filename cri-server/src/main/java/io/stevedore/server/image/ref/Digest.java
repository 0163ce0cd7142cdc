package io.stevedore.server.image.ref;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A content digest, {@code <algorithm>:<hex>}, as OCI descriptors and image references carry it.
 * Only the algorithms the OCI image spec registers are accepted: {@code sha256} (64 lowercase hex
 * digits) and {@code sha512} (128).
 *
 * @param algorithm {@code sha256} or {@code sha512}
 * @param hex the lowercase hex encoding of the hash
 */
public record Digest(String algorithm, String hex) {
    private static final Pattern HEX = Pattern.compile("[0-9a-f]+");

    public Digest {
        Objects.requireNonNull(algorithm, "algorithm");
        Objects.requireNonNull(hex, "hex");
        int want = switch (algorithm) {
            case "sha256" -> 64;
            case "sha512" -> 128;
            default ->
                throw new IllegalArgumentException("invalid digest \"" + algorithm + ":" + hex
                        + "\": unsupported algorithm \"" + algorithm + "\" (want sha256 or sha512)");
        };
        if (hex.length() != want || !HEX.matcher(hex).matches()) {
            throw new IllegalArgumentException("invalid digest \"" + algorithm + ":" + hex + "\": want " + want
                    + " lowercase hex digits for " + algorithm);
        }
    }

    /**
     * Parses {@code sha256:<hex>}.
     *
     * @throws IllegalArgumentException naming the reason when the text is not a valid digest
     */
    public static Digest of(String text) {
        Objects.requireNonNull(text, "digest");
        int colon = text.indexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("invalid digest \"" + text + "\": want <algorithm>:<hex>");
        }
        return new Digest(text.substring(0, colon), text.substring(colon + 1));
    }

    /** The SHA-256 digest of {@code bytes}. */
    public static Digest sha256(byte[] bytes) {
        return compute("sha256", bytes);
    }

    /** The digest of {@code bytes} with {@code algorithm}, for checking content against this one. */
    public static Digest compute(String algorithm, byte[] bytes) {
        return new Digest(
                algorithm, HexFormat.of().formatHex(newMessageDigest(algorithm).digest(bytes)));
    }

    /** Whether {@code bytes} hash to this digest. */
    public boolean matches(byte[] bytes) {
        return equals(compute(algorithm, bytes));
    }

    /** A fresh {@link MessageDigest} for this digest's algorithm, to verify content as it streams. */
    public MessageDigest newMessageDigest() {
        return newMessageDigest(algorithm);
    }

    private static MessageDigest newMessageDigest(String algorithm) {
        try {
            return MessageDigest.getInstance(
                    switch (algorithm) {
                        case "sha256" -> "SHA-256";
                        case "sha512" -> "SHA-512";
                        default -> throw new IllegalArgumentException("unsupported algorithm " + algorithm);
                    });
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks " + algorithm, e);
        }
    }

    /** {@code <algorithm>:<hex>}. */
    @Override
    public String toString() {
        return algorithm + ":" + hex;
    }
}

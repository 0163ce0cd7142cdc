package io.stevedore.server.image.manifest;

import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * An OS/architecture/variant triple, normalised like containerd's {@code platforms.Normalize}:
 * {@code x86_64} → {@code amd64}, {@code aarch64} → {@code arm64}, {@code armhf} → {@code
 * arm/v7}, {@code armel} → {@code arm/v6}; {@code arm64} without a variant is {@code v8} and
 * {@code arm} without one is {@code v7}.
 *
 * @param os e.g. {@code linux}
 * @param architecture GOARCH style, e.g. {@code amd64}
 * @param variant e.g. {@code v7}; empty when the architecture has none
 */
public record Platform(String os, String architecture, Optional<String> variant) {
    public Platform {
        Objects.requireNonNull(os, "os");
        Objects.requireNonNull(architecture, "architecture");
        Objects.requireNonNull(variant, "variant");
        os = os.toLowerCase(Locale.ROOT);
        String arch = architecture.toLowerCase(Locale.ROOT);
        String v = variant.map(s -> s.toLowerCase(Locale.ROOT))
                .filter(s -> !s.isEmpty())
                .orElse(null);
        switch (arch) {
            case "x86_64", "x86-64" -> arch = "amd64";
            case "aarch64" -> arch = "arm64";
            case "armhf" -> {
                arch = "arm";
                v = "v7";
            }
            case "armel" -> {
                arch = "arm";
                v = "v6";
            }
            case "i386", "i686" -> arch = "386";
            default -> {}
        }
        if (arch.equals("arm64") && (v == null || v.equals("8"))) {
            v = "v8";
        } else if (arch.equals("arm") && v == null) {
            v = "v7";
        } else if (arch.equals("arm") && v.matches("[5-8]")) {
            v = "v" + v;
        } else if (arch.equals("amd64") && "v1".equals(v)) {
            v = null;
        }
        architecture = arch;
        variant = Optional.ofNullable(v);
    }

    /** linux/amd64, what an image is pulled for unless the caller asks otherwise. */
    public static Platform linuxAmd64() {
        return new Platform("linux", "amd64", Optional.empty());
    }

    /** Parses {@code os/arch[/variant]}. */
    public static Platform of(String text) {
        String[] p = text.split("/", -1);
        if (p.length < 2 || p.length > 3 || p[0].isEmpty() || p[1].isEmpty()) {
            throw new IllegalArgumentException("invalid platform \"" + text + "\": want os/architecture[/variant]");
        }
        return new Platform(p[0], p[1], p.length == 3 ? Optional.of(p[2]) : Optional.empty());
    }

    /**
     * How well an image for {@code candidate} runs here: 0 is an exact match, higher is a less
     * preferred but compatible one (arm/v7 runs arm/v6 and v5 images; arm64/v8 runs arm/v7…), -1
     * means it does not run at all.
     */
    public int rank(Platform candidate) {
        if (!os.equals(candidate.os)) {
            return -1;
        }
        if (architecture.equals(candidate.architecture)) {
            if (variant.equals(candidate.variant)) {
                return 0;
            }
            if (architecture.equals("arm")) {
                int want = armLevel(variant);
                int have = armLevel(candidate.variant);
                return have > 0 && have <= want ? want - have : -1;
            }
            return -1;
        }
        // Like containerd, a 64-bit ARM host also runs 32-bit arm/v7 and older images, after its own.
        if (architecture.equals("arm64") && candidate.architecture.equals("arm")) {
            int have = armLevel(candidate.variant);
            return have > 0 && have <= 7 ? 10 + (8 - have) : -1;
        }
        return -1;
    }

    private static int armLevel(Optional<String> v) {
        return switch (v.orElse("")) {
            case "v8" -> 8;
            case "v7" -> 7;
            case "v6" -> 6;
            case "v5" -> 5;
            default -> 0;
        };
    }

    /** {@code os/arch[/variant]}. */
    @Override
    public String toString() {
        return os + "/" + architecture + variant.map(v -> "/" + v).orElse("");
    }
}

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

    /**
     * This host's platform, what images are pulled for: Linux on the JVM's {@code os.arch}; on
     * 32-bit ARM the variant is the CPU architecture level in {@code /proc/cpuinfo}, as
     * containerd's {@code platforms.DefaultSpec} reads it.
     */
    public static Platform host() {
        String arch = System.getProperty("os.arch", "");
        String cpuinfo = "";
        if (arch.equals("arm")) {
            try {
                cpuinfo = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/cpuinfo"));
            } catch (java.io.IOException | RuntimeException e) {
                // no variant known: arm/v7, the normalised default
            }
        }
        return forJavaArch(arch, cpuinfo);
    }

    /**
     * The Linux platform of a JVM {@code os.arch} value, mapped to Go's GOARCH names as OCI images
     * carry them: {@code amd64}, {@code arm64}, {@code ppc64le}, {@code s390x}, {@code riscv64},
     * {@code 386}, {@code arm} (with its variant from {@code cpuinfo}'s {@code CPU architecture}).
     *
     * @throws IllegalArgumentException for an architecture no OCI image is built for
     */
    static Platform forJavaArch(String osArch, String cpuinfo) {
        String arch = switch (osArch.toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64" -> "amd64";
            case "aarch64", "arm64" -> "arm64";
            case "ppc64le" -> "ppc64le";
            case "ppc64" -> "ppc64";
            case "s390x" -> "s390x";
            case "riscv64" -> "riscv64";
            case "loongarch64" -> "loong64";
            case "mips64el" -> "mips64le";
            case "x86", "i386", "i486", "i586", "i686" -> "386";
            case "arm", "arm32" -> "arm";
            default -> throw new IllegalArgumentException("unsupported host architecture \"" + osArch + "\"");
        };
        Optional<String> variant = Optional.empty();
        if (arch.equals("arm")) {
            variant = armVariant(cpuinfo);
        }
        return new Platform("linux", arch, variant);
    }

    /** {@code CPU architecture: 7} (or {@code 8} for a 32-bit userland on a 64-bit core) → v7. */
    private static Optional<String> armVariant(String cpuinfo) {
        for (String line : cpuinfo.split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).strip().equals("CPU architecture")) {
                String v = line.substring(colon + 1).strip();
                // A 32-bit process on an ARMv8 core runs v7 code (containerd: "8" → v7 for arm).
                return switch (v) {
                    case "8", "AArch64" -> Optional.of("v7");
                    case "7", "6", "5" -> Optional.of("v" + v);
                    default -> Optional.empty();
                };
            }
        }
        return Optional.empty();
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

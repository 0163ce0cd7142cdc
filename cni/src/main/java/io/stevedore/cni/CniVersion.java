package io.stevedore.cni;

import java.util.Optional;

/** The CNI specification versions this client speaks, oldest first, so {@code compareTo} orders them. */
public enum CniVersion {
    V0_3_0("0.3.0"),
    V0_3_1("0.3.1"),
    V0_4_0("0.4.0"),
    V1_0_0("1.0.0"),
    V1_1_0("1.1.0");

    private final String text;

    CniVersion(String text) {
        this.text = text;
    }

    /** The version as written in JSON, e.g. {@code "1.0.0"}. */
    public String text() {
        return text;
    }

    /** The supported version written {@code text}, or empty when it is unknown or unsupported. */
    public static Optional<CniVersion> of(String text) {
        for (CniVersion v : values()) {
            if (v.text.equals(text)) {
                return Optional.of(v);
            }
        }
        return Optional.empty();
    }

    /** Whether this version is {@code other} or newer. */
    public boolean atLeast(CniVersion other) {
        return compareTo(other) >= 0;
    }

    @Override
    public String toString() {
        return text;
    }
}

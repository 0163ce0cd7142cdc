package io.stevedore.conformance;

import com.sun.security.auth.module.UnixSystem;

/** What the machine running the suite can do. */
public final class Host {
    private Host() {}

    /** True when this process runs as uid 0. */
    public static boolean isRoot() {
        return new UnixSystem().getUid() == 0;
    }
}

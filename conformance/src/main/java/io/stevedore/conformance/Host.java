package io.stevedore.conformance;

import com.sun.security.auth.module.UnixSystem;

/** What the machine running the suite can do. */
public final class Host {
    private Host() {}

    /** True when this process runs as uid 0. */
    public static boolean isRoot() {
        return new UnixSystem().getUid() == 0;
    }

    /**
     * The processes whose command line names {@code dir}, the test's directory (shims, pauses and
     * their children), other than a JVM (the daemon and the test itself): what a test must not
     * leave running. Each as {@code "<pid> <command line>"}.
     */
    public static java.util.List<String> processesNaming(java.nio.file.Path dir) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info()
                        .commandLine()
                        .map(c -> c.contains(dir.toString()) && !c.contains("java"))
                        .orElse(false))
                .map(p -> p.pid() + " " + p.info().commandLine().orElse(""))
                .toList();
    }
}

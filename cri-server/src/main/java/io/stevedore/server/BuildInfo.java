package io.stevedore.server;

/** What this build of Stevedore calls itself. */
public final class BuildInfo {
    private BuildInfo() {}

    /** Our version, from the jar manifest; "dev" when running from classes. */
    public static String version() {
        String v = BuildInfo.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}

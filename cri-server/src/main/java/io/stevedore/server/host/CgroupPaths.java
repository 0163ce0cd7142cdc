package io.stevedore.server.host;

import java.nio.file.Path;

/** Cgroup paths as the daemon's pods and containers name them. */
public final class CgroupPaths {
    private CgroupPaths() {}

    /**
     * A cgroupfs-style path ({@code /kubepods/pod1/abc}) relative to a hierarchy's root; refuses
     * {@code .} and {@code ..}, which would reach outside it.
     */
    public static Path relative(String cgroupsPath) {
        Path rel = Path.of("");
        for (String part : cgroupsPath.split("/")) {
            if (part.equals(".") || part.equals("..")) {
                throw new IllegalArgumentException(
                        "cgroup path \"" + cgroupsPath + "\" must not contain \"" + part + "\"");
            }
            if (!part.isEmpty()) {
                rel = rel.resolve(part);
            }
        }
        return rel;
    }
}

package io.stevedore.server.host;

import java.nio.file.Path;

/**
 * Cgroup paths as the daemon's pods and containers name them, in either driver's form, and where
 * each lives under a cgroupfs root.
 *
 * <ul>
 *   <li>cgroupfs: a path, {@code /kubepods/besteffort/pod1/<id>};
 *   <li>systemd (runc's {@code --systemd-cgroup}): {@code slice:prefix:name}, e.g. {@code
 *       kubepods-besteffort-pod1.slice:stevedore:<id>}, which systemd places at {@code
 *       kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/stevedore-<id>.scope};
 *       a pod's parent is a bare slice name, as the kubelet's systemd cgroup manager sends it.
 * </ul>
 */
public final class CgroupPaths {
    /** The {@code prefix} of our containers' systemd scopes ({@code stevedore-<id>.scope}). */
    public static final String SCOPE_PREFIX = "stevedore";

    private CgroupPaths() {}

    /**
     * A container's OCI {@code cgroupsPath} under its pod's cgroup: containerd's {@code
     * getCgroupsPath}. A parent that is a systemd slice ({@code …/x.slice}) gives runc's systemd
     * form {@code x.slice:stevedore:<id>}; any other parent the cgroupfs path {@code <parent>/<id>}.
     */
    public static String container(String parent, String id) {
        String base = parent.substring(parent.lastIndexOf('/') + 1);
        if (base.endsWith(".slice")) {
            expandSlice(base); // refuse a malformed name here, not in runc
            return base + ":" + SCOPE_PREFIX + ":" + id;
        }
        if (parent.isEmpty()) {
            return "/" + id;
        }
        return Path.of(parent).resolve(id).normalize().toString();
    }

    /**
     * Where a cgroup lives relative to a hierarchy's root, from any of: a cgroupfs path ({@code
     * /kubepods/pod1/abc}); runc's systemd form ({@code a-b.slice:prefix:name}); a bare slice name
     * ({@code a-b.slice}), alone or followed by a path ({@code a-b.slice/abc}). Refuses {@code .}
     * and {@code ..}, which would reach outside the hierarchy, and malformed slice names.
     */
    public static Path relative(String cgroupsPath) {
        int colon = cgroupsPath.indexOf(':');
        if (colon >= 0) {
            String[] parts = cgroupsPath.split(":", -1);
            if (parts.length != 3 || parts[2].isEmpty() || parts[2].contains("/") || parts[1].contains("/")) {
                throw new IllegalArgumentException(
                        "cgroup path \"" + cgroupsPath + "\" is not of the form slice:prefix:name");
            }
            String slice = parts[0].isEmpty() ? "system.slice" : parts[0]; // runc's default
            String unit = parts[2].endsWith(".slice")
                    ? parts[2]
                    : (parts[1].isEmpty() ? parts[2] : parts[1] + "-" + parts[2]) + ".scope";
            return checked(cgroupsPath, expandSlice(slice).resolve(unit));
        }
        String trimmed = cgroupsPath.replaceFirst("^/+", "");
        int slash = trimmed.indexOf('/');
        String first = slash < 0 ? trimmed : trimmed.substring(0, slash);
        if (first.endsWith(".slice") && first.contains("-")) {
            Path rest = plain(slash < 0 ? "" : trimmed.substring(slash + 1), cgroupsPath);
            return expandSlice(first).resolve(rest);
        }
        return plain(cgroupsPath, cgroupsPath);
    }

    /**
     * systemd's slice nesting: {@code a-b-c.slice} is {@code a.slice/a-b.slice/a-b-c.slice}, {@code
     * -.slice} the root (runc's {@code ExpandSlice}).
     */
    static Path expandSlice(String slice) {
        if (!slice.endsWith(".slice") || slice.contains("/")) {
            throw new IllegalArgumentException("\"" + slice + "\" is not a systemd slice name");
        }
        String name = slice.substring(0, slice.length() - ".slice".length());
        if (name.equals("-")) return Path.of("");
        if (name.isEmpty() || name.startsWith("-") || name.endsWith("-") || name.contains("--")) {
            throw new IllegalArgumentException("\"" + slice + "\" is not a valid systemd slice name");
        }
        Path p = Path.of("");
        String prefix = "";
        for (String part : name.split("-")) {
            prefix = prefix.isEmpty() ? part : prefix + "-" + part;
            p = p.resolve(prefix + ".slice");
        }
        return checked(slice, p);
    }

    private static Path plain(String path, String whole) {
        Path rel = Path.of("");
        for (String part : path.split("/")) {
            if (part.equals(".") || part.equals("..")) {
                throw new IllegalArgumentException("cgroup path \"" + whole + "\" must not contain \"" + part + "\"");
            }
            if (!part.isEmpty()) {
                rel = rel.resolve(part);
            }
        }
        return rel;
    }

    private static Path checked(String whole, Path p) {
        for (Path part : p) {
            String s = part.toString();
            if (s.equals(".") || s.equals("..")) {
                throw new IllegalArgumentException("cgroup path \"" + whole + "\" must not contain \"" + s + "\"");
            }
        }
        return p;
    }
}

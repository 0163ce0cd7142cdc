package io.stevedore.conformance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Counts what a daemon under {@code dir} may leave on the machine, by kind (issue 13): what no
 * record owns after every pod and image was removed must be nothing. Each kind is found the way
 * an operator would look: mount table, network interfaces, CNI state, cgroupfs, {@code /proc}, and
 * the state roots.
 *
 * @param dir the daemon's directory ({@link DaemonProcess}: {@code root/} and {@code run/} in it)
 * @param network the CNI network name (host-local's state directory, the result cache's prefix)
 * @param bridge the bridge its pods' veths are enslaved to
 * @param cgroupsBefore the {@code /stevedore/*} cgroups there before the test (another daemon's)
 * @param marker the argument of the test's container processes ({@code sleep <marker>})
 */
record LeakCensus(Path dir, String network, String bridge, Set<String> cgroupsBefore, String marker) {
    static final List<String> HIERARCHIES = List.of("memory", "cpu,cpuacct", "pids", "unified", "systemd");

    /** The cgroups under {@code /stevedore} now, as {@code <hierarchy>/<path>}, at any depth. */
    static Set<String> stevedoreCgroups() throws IOException {
        Set<String> out = new TreeSet<>();
        for (String h : HIERARCHIES) {
            Path top = Path.of("/sys/fs/cgroup", h, "stevedore");
            if (!Files.isDirectory(top)) continue;
            try (Stream<Path> s = Files.walk(top)) {
                s.filter(Files::isDirectory)
                        .filter(p -> !p.equals(top))
                        .forEach(p -> out.add(h + "/" + top.relativize(p)));
            }
        }
        return out;
    }

    /** Everything found, by kind; a kind with nothing found is present with an empty list. */
    Map<String, List<String>> take() throws IOException {
        Map<String, List<String>> found = new LinkedHashMap<>();
        Path run = dir.resolve("run");
        Path root = dir.resolve("root");
        found.put("namespace pins", files(run.resolve("ns/net"), run.resolve("ns/ipc"), run.resolve("ns/uts")));
        found.put("mounts", PodContainerIT.mountsUnder(dir));
        found.put("veths", names(Path.of("/sys/class/net", bridge, "brif")));
        found.put(
                "IP reservations",
                names(Path.of("/var/lib/cni/networks", network)).stream()
                        .filter(n -> !n.startsWith("last_reserved_ip") && !n.equals("lock"))
                        .toList());
        found.put(
                "CNI cache entries",
                names(Path.of("/var/lib/cni/results")).stream()
                        .filter(n -> n.startsWith(network + "-"))
                        .toList());
        var cgroups = new ArrayList<>(stevedoreCgroups());
        cgroups.removeAll(cgroupsBefore);
        found.put("cgroups", cgroups);
        found.put(
                "pause processes",
                processes(p -> comm(p).equals("pause") && rootOf(p).equals(run.resolve("pause-root"))));
        found.put(
                "shims",
                processes(p -> comm(p).equals("stevedore-shim") && cmdline(p).contains(dir.toString())));
        found.put("container processes", containerProcesses());
        found.put("bundles", files(run.resolve("containers")));
        found.put("writable layers", files(root.resolve("containers")));
        found.put("pod directories", files(root.resolve("sandboxes"), run.resolve("sandboxes")));
        found.put("records", files(root.resolve("sandboxes.meta"), root.resolve("containers.meta")));
        found.put("snapshots", files(root.resolve("snapshots")));
        found.put("blobs", files(root.resolve("content/blobs/sha256"), root.resolve("content/ingest")));
        return found;
    }

    /** Leaks by kind, counted; the kinds with none are left out. */
    static Map<String, Integer> counts(Map<String, List<String>> found) {
        Map<String, Integer> n = new LinkedHashMap<>();
        found.forEach((k, v) -> {
            if (!v.isEmpty()) n.put(k, v.size());
        });
        return n;
    }

    /**
     * The test's container processes ({@code sleep <marker>}), and inits created but never started
     * ({@code runc init} waiting in a pod cgroup), by pid.
     */
    List<String> containerProcesses() {
        return processes(p -> cmdline(p).equals("sleep " + marker)
                || (cmdline(p).endsWith("runc init")
                        && cgroupOf(p).startsWith("/stevedore/")
                        && !cgroupsBefore.contains("memory" + cgroupOf(p).substring("/stevedore".length()))));
    }

    /** The cgroup path of {@code pid} in the memory hierarchy (it names the container). */
    static String cgroupOf(long pid) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc", Long.toString(pid), "cgroup"))) {
                if (l.contains(":memory:")) return l.substring(l.indexOf(":memory:") + ":memory:".length());
            }
        } catch (IOException e) {
            // gone
        }
        return "";
    }

    private static List<String> processes(java.util.function.LongPredicate match) {
        var out = new ArrayList<String>();
        try (var procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : procs) {
                long pid = Long.parseLong(p.getFileName().toString());
                if (match.test(pid) && !state(pid).startsWith("Z")) out.add(pid + " " + cmdline(pid));
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out;
    }

    static String cmdline(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")))
                    .replace('\0', ' ')
                    .strip();
        } catch (IOException e) {
            return "";
        }
    }

    private static String comm(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "comm"))
                    .strip();
        } catch (IOException e) {
            return "";
        }
    }

    private static String state(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.substring(stat.lastIndexOf(')') + 2);
        } catch (IOException e) {
            return "X";
        }
    }

    private static Path rootOf(long pid) {
        try {
            return Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "root"));
        } catch (IOException e) {
            return Path.of("");
        }
    }

    private static List<String> files(Path... dirs) throws IOException {
        var out = new ArrayList<String>();
        for (Path d : dirs) {
            for (String n : names(d)) out.add(d.getFileName() + "/" + n);
        }
        return out;
    }

    private static List<String> names(Path d) throws IOException {
        if (!Files.isDirectory(d)) return List.of();
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString())
                    // a record store's own subdirectory is not a record
                    .filter(n -> !n.equals("unreadable"))
                    .sorted()
                    .toList();
        }
    }
}

package io.stevedore.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real {@code stevedore-pinns}: namespaces created, configured, pinned and removed, checked
 * from the outside with {@code nsenter}. Needs root and nsenter. Every mount under the temp dir
 * is detached afterwards, and a test that left one fails.
 */
@Tag("root")
@EnabledIf("rootWithNsenter")
class PinnsIT {
    private static final String PORT_START = "net/ipv4/ip_unprivileged_port_start";
    private static final String SHMMAX = "kernel/shmmax";

    @TempDir
    Path tmp;

    private Path pinDir;
    private Pinns pinns;

    static boolean rootWithNsenter() {
        return onPath("nsenter").isPresent() && uid() == 0;
    }

    private static Optional<Path> onPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) return Optional.of(p);
        }
        return Optional.empty();
    }

    private static int uid() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/status"))) {
            return lines.filter(l -> l.startsWith("Uid:"))
                    .map(l -> Integer.parseInt(l.split("\\s+")[1]))
                    .findFirst()
                    .orElse(-1);
        } catch (IOException e) {
            return -1;
        }
    }

    @BeforeEach
    void setUp() throws IOException {
        pinDir = tmp.resolve("ns");
        pinns = new Pinns(PinnsTest.pinnsBinary().toAbsolutePath(), pinDir);
    }

    @AfterEach
    void detachLeftovers() throws Exception {
        List<String> left = mountsUnder(tmp.toRealPath());
        for (String m : left.reversed()) run("umount", "-l", m); // the deepest (latest) first
        assertEquals(List.of(), left, "mounts left behind");
    }

    @Test
    void pin_netIpcUtsWithHostnameAndSysctls_configuredPinnedAndRemovable() throws Exception {
        String hostPortStart = hostSysctl(PORT_START);
        String hostShmmax = hostSysctl(SHMMAX);
        String portStart = hostPortStart.equals("0") ? "80" : "0";
        String shmmax = hostShmmax.equals("1073741824") ? "2147483648" : "1073741824";

        PinnedNamespaces ns = pinns.pin(
                "sb1",
                EnumSet.allOf(Pinns.Kind.class),
                Optional.of("pod-x"),
                Map.of("net.ipv4.ip_unprivileged_port_start", portStart, "kernel.shmmax", shmmax));

        Path net = ns.net().orElseThrow();
        Path ipc = ns.ipc().orElseThrow();
        Path uts = ns.uts().orElseThrow();
        assertEquals(
                List.of(pinDir.resolve("net/sb1"), pinDir.resolve("ipc/sb1"), pinDir.resolve("uts/sb1")),
                List.of(net, ipc, uts));
        for (Pinns.Kind kind : Pinns.Kind.values()) {
            Path pin = ns.path(kind).orElseThrow();
            assertTrue(pinns.isPinned(pin), pin + " is not an nsfs mount");
            String pinned = kind.dirName() + ":[" + Files.getAttribute(pin, "unix:ino") + "]";
            assertNotEquals(
                    Files.readSymbolicLink(Path.of("/proc/self/ns", kind.dirName()))
                            .toString(),
                    pinned);
            assertEquals(Optional.of(pinned), nsfsMount(pin));
        }
        assertEquals("pod-x", run("nsenter", "--net=" + net, "--uts=" + uts, "hostname"));
        assertTrue(
                run("nsenter", "--net=" + net, "ip", "-o", "link", "show", "lo").contains("UP"), "lo is up");
        assertEquals(portStart, run("nsenter", "--net=" + net, "cat", "/proc/sys/" + PORT_START));
        assertEquals(shmmax, run("nsenter", "--ipc=" + ipc, "cat", "/proc/sys/" + SHMMAX));
        assertEquals(hostPortStart, hostSysctl(PORT_START));
        assertEquals(hostShmmax, hostSysctl(SHMMAX));

        pinns.remove("sb1");

        assertEquals(List.of(), mountsUnder(tmp.toRealPath()));
        for (Path pin : List.of(net, ipc, uts)) {
            assertFalse(Files.exists(pin), pin + " still exists");
            assertFalse(pinns.isPinned(pin));
        }
        pinns.remove("sb1");
    }

    @Test
    void pin_unknownSysctl_failsWithToolMessageAndLeavesNothing() throws Exception {
        var e = assertThrows(
                PinnsException.class,
                () -> pinns.pin(
                        "sb1",
                        EnumSet.allOf(Pinns.Kind.class),
                        Optional.of("pod-x"),
                        Map.of("net.ipv4.no_such_sysctl", "1")));

        assertEquals(
                "stevedore-pinns: sysctl net.ipv4.no_such_sysctl=1: open /proc/sys/net/ipv4/no_such_sysctl: "
                        + "No such file or directory",
                e.toolMessage().orElseThrow());
        assertTrue(e.getMessage().contains("no_such_sysctl"), e.getMessage());
        assertEquals(List.of(), mountsUnder(tmp.toRealPath()));
        assertEquals(List.of(), pinFiles());
    }

    @Test
    void pin_utsPinAlreadyExists_undoesEarlierPinsAndKeepsTheExistingFile() throws Exception {
        Path existing =
                Files.writeString(Files.createDirectories(pinDir.resolve("uts")).resolve("sb1"), "keep");

        var e = assertThrows(
                PinnsException.class,
                () -> pinns.pin("sb1", EnumSet.allOf(Pinns.Kind.class), Optional.empty(), Map.of()));

        assertEquals(
                "stevedore-pinns: create pin " + existing + ": File exists",
                e.toolMessage().orElseThrow());
        assertEquals(List.of(), mountsUnder(tmp.toRealPath()));
        assertEquals(List.of(existing), pinFiles());
        assertEquals("keep", Files.readString(existing));
    }

    @Test
    void pin_netOnly_otherKindsAbsent() throws Exception {
        PinnedNamespaces ns = pinns.pin("sb2", Set.of(Pinns.Kind.NET), Optional.empty(), Map.of());

        assertEquals(
                new PinnedNamespaces(Optional.of(pinDir.resolve("net/sb2")), Optional.empty(), Optional.empty()), ns);
        assertTrue(pinns.isPinned(ns.net().orElseThrow()));
        assertFalse(Files.exists(pinDir.resolve("uts/sb2")));
        // A fresh network namespace: only lo (still down; CNI's loopback plugin brings it up).
        List<String> devices = run("nsenter", "--net=" + ns.net().orElseThrow(), "cat", "/proc/net/dev")
                .lines()
                .skip(2)
                .map(l -> l.strip().split(":")[0])
                .toList();
        assertEquals(List.of("lo"), devices);

        pinns.remove("sb2");

        assertEquals(List.of(), pinFiles());
    }

    @Test
    void remove_nothingPinned_isOk() throws Exception {
        pinns.remove("never-pinned");
        Files.createDirectories(pinDir.resolve("net"));
        pinns.remove("never-pinned");

        assertEquals(List.of(), pinFiles());
    }

    private List<Path> pinFiles() throws IOException {
        if (!Files.exists(pinDir)) return List.of();
        try (Stream<Path> files = Files.walk(pinDir)) {
            return files.filter(Files::isRegularFile)
                    .sorted(Comparator.naturalOrder())
                    .toList();
        }
    }

    private static Optional<String> nsfsMount(Path pin) throws IOException {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/mountinfo"))) {
            return PinnsMountInfo.nsfsMount(lines, pin.toRealPath().toString());
        }
    }

    private static List<String> mountsUnder(Path dir) throws IOException {
        String prefix = dir + "/";
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/mountinfo"))) {
            return lines.map(l -> PinnsMountInfo.unescape(l.split(" ")[4]))
                    .filter(m -> m.startsWith(prefix))
                    .toList();
        }
    }

    private static String hostSysctl(String path) throws IOException {
        return Files.readString(Path.of("/proc/sys", path)).strip();
    }

    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        int code = p.waitFor();
        if (code != 0) throw new IOException(String.join(" ", cmd) + " exited with " + code + ": " + out);
        return out;
    }
}

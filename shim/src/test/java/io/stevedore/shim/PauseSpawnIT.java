package io.stevedore.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stevedore-pause --spawn}: the pause forked into a new PID namespace inside a pod's pinned
 * namespaces, chrooted, unprivileged, and reported by pid. Needs root. The test JVM becomes a
 * child subreaper, as the daemon is, so each pause is reparented to it and reaped here; a test
 * that leaves one running fails.
 */
@Tag("root")
@EnabledIf("root")
class PauseSpawnIT {
    @TempDir
    Path tmp;

    private final List<Integer> started = new ArrayList<>();
    private Pinns pinns;

    static boolean root() {
        return "root".equals(System.getProperty("user.name"));
    }

    static Path pauseBinary() {
        return Path.of(System.getProperty("stevedore.native.dir", "target/native"), "stevedore-pause")
                .toAbsolutePath();
    }

    @org.junit.jupiter.api.BeforeAll
    static void subreaper() {
        Reaper.becomeSubreaper();
    }

    @AfterEach
    void cleanUp() throws Exception {
        var running = new ArrayList<Integer>();
        for (int pid : started) {
            if (running(pid)) {
                running.add(pid);
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
        if (pinns != null) pinns.remove("sb1");
        for (int pid : started) {
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> Reaper.reaped(pid));
        }
        assertEquals(List.of(), running, "pauses left running");
    }

    @Test
    void spawn_joinsThePinnedNamespacesAsPid1OfANewPidNamespaceUnprivilegedAndChrooted() throws Exception {
        pinns = new Pinns(PinnsTest.pinnsBinary().toAbsolutePath(), tmp.resolve("ns"));
        PinnedNamespaces ns = pinns.pin("sb1", EnumSet.allOf(Pinns.Kind.class), Optional.of("pod-x"), Map.of());
        Path root = Files.createDirectories(tmp.resolve("empty"));

        int pid = spawn(
                "--root",
                root.toString(),
                "--net",
                ns.net().orElseThrow().toString(),
                "--ipc",
                ns.ipc().orElseThrow().toString(),
                "--uts",
                ns.uts().orElseThrow().toString());

        assertEquals("pause", Files.readString(proc(pid, "comm")).strip());
        assertEquals(
                "/pause",
                Files.readString(proc(pid, "cmdline")).replace('\0', ' ').strip());
        String status = Files.readString(proc(pid, "status"));
        assertTrue(
                status.matches("(?s).*\\nNSpid:\\s+" + pid + "\\s+1\\n.*"), "PID 1 of its own namespace:\n" + status);
        assertTrue(status.contains("Uid:\t65535\t65535\t65535\t65535"), status);
        assertTrue(status.contains("CapEff:\t0000000000000000"), status);
        assertTrue(status.contains("NoNewPrivs:\t1"), status);
        assertEquals(root.toRealPath(), Files.readSymbolicLink(proc(pid, "root")));
        assertNotEquals(nsLink("self", "pid"), nsLink(Integer.toString(pid), "pid"));
        for (String kind : List.of("net", "ipc", "uts")) {
            Path pin = tmp.resolve("ns").resolve(kind).resolve("sb1");
            assertEquals(inode(pin), inode(proc(pid, "ns/" + kind)), kind + " namespace is the pinned one");
        }

        ProcessHandle.of(pid).orElseThrow().destroy(); // SIGTERM: the pause leaves at once
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !running(pid));
    }

    @Test
    void spawn_withoutNamespaces_staysInOursButForPid() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("empty"));

        int pid = spawn("--root", root.toString());

        assertEquals(nsLink("self", "net"), nsLink(Integer.toString(pid), "net"));
        assertNotEquals(nsLink("self", "pid"), nsLink(Integer.toString(pid), "pid"));

        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !running(pid));
    }

    @Test
    void spawn_missingRoot_failsWithTheReasonAndLeavesNothing() throws Exception {
        var r = run(
                pauseBinary().toString(),
                "--spawn",
                "--root",
                tmp.resolve("missing").toString());

        assertEquals(1, r.code);
        assertEquals("", r.out);
        assertTrue(r.err.contains("chroot: No such file or directory"), r.err);
    }

    @Test
    void spawn_missingNamespace_failsBeforeForking() throws Exception {
        var r = run(
                pauseBinary().toString(),
                "--spawn",
                "--root",
                tmp.toString(),
                "--net",
                tmp.resolve("no-netns").toString());

        assertEquals(1, r.code);
        assertTrue(r.err.contains("join network namespace"), r.err);
    }

    @Test
    void spawn_usageErrors_exit2() throws Exception {
        assertEquals(2, run(pauseBinary().toString(), "--spawn").code);
        assertEquals(2, run(pauseBinary().toString(), "--spawn", "--root", "relative").code);
        assertEquals(2, run(pauseBinary().toString(), "--spawn", "--root", "/", "--bogus", "x").code);
        assertEquals(2, run(pauseBinary().toString(), "--spawn", "--root", "/", "--root", "/").code);
    }

    private int spawn(String... args) throws Exception {
        var cmd = new ArrayList<>(List.of(pauseBinary().toString(), "--spawn"));
        cmd.addAll(List.of(args));
        var r = run(cmd.toArray(String[]::new));
        assertEquals(0, r.code, r.err);
        int pid = Integer.parseInt(r.out.strip());
        started.add(pid);
        assertTrue(running(pid), "running after the launcher returned");
        return pid;
    }

    private record Result(int code, String out, String err) {}

    private static Result run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        return new Result(p.exitValue(), out, err);
    }

    private static Path proc(int pid, String what) {
        return Path.of("/proc", Integer.toString(pid), what);
    }

    /** Alive and not a zombie (init may be slow to reap, or never reap, here). */
    private static boolean running(int pid) {
        try {
            String stat = Files.readString(proc(pid, "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (IOException e) {
            return false;
        }
    }

    private static String nsLink(String pid, String kind) throws IOException {
        return Files.readSymbolicLink(Path.of("/proc", pid, "ns", kind)).toString();
    }

    private static Object inode(Path p) throws IOException {
        return Files.getAttribute(p, "unix:ino");
    }
}

package io.stevedore.oci.runtime;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.oci.runtime.OciState.Status;
import io.stevedore.oci.spec.Process;
import io.stevedore.oci.spec.Resources;
import io.stevedore.oci.spec.Spec;
import io.stevedore.oci.spec.SpecJson;
import io.stevedore.oci.spec.Specs;
import java.io.File;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link RuncCli} with the real runc: a bundle from {@link Specs#defaults()} whose rootfs holds only
 * a static payload compiled here, taken through create, start, kill and delete. Needs root, runc
 * and gcc. The test JVM becomes a child subreaper so that it can reap the container's init, which
 * runc create leaves behind as an orphan.
 */
@Tag("root")
@EnabledIf("rootWithRuncAndGcc")
class RuncCliIT {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final int SIGTERM = 15;

    /** Prints "ready", then waits; exits 0 on SIGTERM (pid 1 of a pid namespace needs a handler). */
    private static final String PAYLOAD = """
      #include <signal.h>
      #include <string.h>
      #include <unistd.h>
      static void on_term(int sig) {
        (void)sig;
        static const char m[] = "terminated\\n";
        write(1, m, sizeof m - 1);
        _exit(0);
      }
      int main(void) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_term;
        sigaction(SIGTERM, &sa, 0);
        static const char m[] = "ready\\n";
        write(1, m, sizeof m - 1);
        for (;;) pause();
      }
      """;

    @TempDir
    Path tmp;

    private String id;
    private Path runtimeRoot;
    private Path bundle;
    private RuncCli runc;
    private int initPid;
    private int execPid;

    static boolean rootWithRuncAndGcc() {
        return onPath("runc") && onPath("gcc") && "0".equals(uid());
    }

    private static boolean onPath(String name) {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .filter(d -> !d.isEmpty())
                .anyMatch(d -> Files.isExecutable(Path.of(d, name)));
    }

    private static String uid() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .filter(l -> l.startsWith("Uid:"))
                    .map(l -> l.split("\\s+")[1])
                    .findFirst()
                    .orElse("");
        } catch (IOException e) {
            return "";
        }
    }

    @BeforeAll
    static void becomeSubreaper() throws Throwable {
        Libc.prctlSubreaper();
    }

    @BeforeEach
    void bundle() throws Exception {
        id = "stevedore-oci-it-" + UUID.randomUUID().toString().substring(0, 8);
        runtimeRoot = tmp.resolve("runc-root");
        bundle = tmp.resolve("bundle");
        Path rootfs = Files.createDirectories(bundle.resolve("rootfs"));
        Path source = Files.writeString(tmp.resolve("payload.c"), PAYLOAD);
        run("gcc", "-static", "-O2", "-o", rootfs.resolve("payload").toString(), source.toString());
        Spec spec = Specs.apply(
                Specs.defaults(),
                Specs.withProcessArgs("/payload"),
                Specs.withHostname("it"),
                Specs.withCgroupsPath("/" + id));
        SpecJson.write(spec, bundle.resolve("config.json"));
        runc = new RuncCli("runc", runtimeRoot, false)
                .withTimeout(WAIT)
                .withTempDir(Files.createDirectories(tmp.resolve("scratch")));
    }

    @AfterEach
    void cleanup() throws Exception {
        runQuietly("runc", "--root", runtimeRoot.toString(), "delete", "--force", id);
        try {
            // both at each poll: the init is reapable only once the exec'd process has been reaped
            await().atMost(WAIT)
                    .until(() -> (execPid == 0 || Libc.reaped(execPid)) & (initPid == 0 || Libc.reaped(initPid)));
        } finally {
            for (Path controller : cgroupControllers()) {
                Path dir = controller.resolve(id);
                if (Files.isDirectory(dir)) {
                    Files.delete(dir); // rmdir: runc left an empty cgroup
                }
            }
        }
        assertFalse(Files.exists(runtimeRoot.resolve(id)), "runc state left behind");
        try (Stream<Path> scratch = Files.list(tmp.resolve("scratch"))) {
            assertEquals(List.of(), scratch.toList(), "scratch directories left behind");
        }
    }

    @Test
    void lifecycle_createStartKillDelete() throws Exception {
        Path pidFile = tmp.resolve("init.pid");
        Path out = tmp.resolve("stdout");

        runc.create(id, bundle, pidFile, Optional.empty(), ContainerIo.toFiles(out, tmp.resolve("stderr")));
        initPid = Integer.parseInt(Files.readString(pidFile).strip());

        OciState created = runc.state(id).orElseThrow();
        assertEquals(Status.CREATED, created.status());
        assertEquals(initPid, created.pid());
        assertEquals(bundle, created.bundle());
        assertTrue(runc.list().stream().anyMatch(s -> s.id().equals(id)));

        runc.start(id);
        assertEquals(Status.RUNNING, runc.state(id).orElseThrow().status());
        await().atMost(WAIT).until(() -> Files.readString(out).contains("ready"));

        runc.pause(id);
        assertEquals(Status.PAUSED, runc.state(id).orElseThrow().status());
        runc.resume(id);
        assertEquals(Status.RUNNING, runc.state(id).orElseThrow().status());
        runc.update(id, Resources.EMPTY.withPids(new Resources.Pids(64L)));

        Path processJson = tmp.resolve("process.json");
        SpecJson.write(Process.of(List.of("/payload")).withEnv(List.of(Specs.DEFAULT_PATH)), processJson);
        Path execPidFile = tmp.resolve("exec.pid");
        runc.execDetached(id, processJson, execPidFile, Optional.empty(), ContainerIo.none());
        execPid = Integer.parseInt(Files.readString(execPidFile).strip());
        assertTrue(ProcessHandle.of(execPid).isPresent());

        runc.kill(id, SIGTERM, false);
        // The dying init (pid 1 of its namespace) waits until every other process in it is reaped, and
        // the exec'd one is our child: until we reap it, runc still reports the container running.
        await().atMost(WAIT).until(() -> Libc.reaped(execPid));
        await().atMost(WAIT)
                .untilAsserted(() -> assertEquals(
                        Status.STOPPED, runc.state(id).orElseThrow().status()));
        assertTrue(Files.readString(out).contains("terminated"));

        runc.delete(id, false);
        assertEquals(Optional.empty(), runc.state(id));
        runc.delete(id, false); // idempotent
    }

    @Test
    void start_unknownContainer_isNotFoundWithRuncsMessage() {
        var e = org.junit.jupiter.api.Assertions.assertThrows(OciRuntimeException.NotFound.class, () -> runc.start(id));

        assertEquals("runc start \"" + id + "\" failed: container does not exist", e.getMessage());
    }

    @Test
    void features_realRunc_reportsSpecVersions() throws Exception {
        Optional<OciFeatures> features = runc.features(); // runc before 1.1 lacks the command: empty

        features.ifPresent(f -> assertTrue(f.ociVersionMin().startsWith("1."), f.toString()));
    }

    private static List<Path> cgroupControllers() throws IOException {
        Path cgroupRoot = Path.of("/sys/fs/cgroup");
        if (Files.exists(cgroupRoot.resolve("cgroup.controllers"))) {
            return List.of(cgroupRoot); // cgroup v2
        }
        try (Stream<Path> dirs = Files.list(cgroupRoot)) {
            return dirs.filter(Files::isDirectory).toList();
        }
    }

    private static void run(String... cmd) throws Exception {
        java.lang.Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + output);
        }
    }

    private static void runQuietly(String... cmd) throws Exception {
        new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start()
                .waitFor();
    }

    /** prctl and waitpid through FFM, for reaping the orphaned container init. */
    @SuppressWarnings("restricted")
    private static final class Libc {
        private static final int PR_SET_CHILD_SUBREAPER = 36;
        private static final int WNOHANG = 1;
        private static final Linker LINKER = Linker.nativeLinker();
        private static final MethodHandle PRCTL = LINKER.downcallHandle(
                LINKER.defaultLookup().find("prctl").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG),
                Linker.Option.firstVariadicArg(1));
        private static final MethodHandle WAITPID = LINKER.downcallHandle(
                LINKER.defaultLookup().find("waitpid").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));

        static void prctlSubreaper() throws Throwable {
            int rc = (int) PRCTL.invokeExact(PR_SET_CHILD_SUBREAPER, 1L);
            if (rc != 0) {
                throw new IllegalStateException("prctl(PR_SET_CHILD_SUBREAPER) failed");
            }
        }

        /** True once {@code pid} has been reaped (now or before: ECHILD). */
        static boolean reaped(int pid) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment status = arena.allocate(JAVA_INT);
                int rc = (int) WAITPID.invokeExact(pid, status, WNOHANG);
                return rc == pid || rc < 0;
            } catch (Throwable t) {
                throw new IllegalStateException("waitpid(" + pid + ")", t);
            }
        }
    }
}

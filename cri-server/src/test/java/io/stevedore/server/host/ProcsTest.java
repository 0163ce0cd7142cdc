package io.stevedore.server.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcsTest {
    private static final int SELF = (int) ProcessHandle.current().pid();

    /** A child that blocks reading stdin until we close it: alive as long as we want, no sleeping. */
    private static Process blockingChild(String exe) throws IOException {
        return new ProcessBuilder(exe)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
    }

    private static void finish(Process p) throws IOException, InterruptedException {
        p.getOutputStream().close();
        p.destroyForcibly();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS), "child did not exit");
    }

    @Test
    void startTime_self_isPositiveAndStable() {
        long t = Procs.startTime(SELF);

        assertTrue(t > 0, "start time " + t);
        assertEquals(t, Procs.startTime(SELF));
    }

    @Test
    void startTime_self_matchesProcStatField22() throws IOException {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");

        assertEquals(Long.parseLong(f[19]), Procs.startTime(SELF));
    }

    @Test
    void startTime_noSuchProcess_isZero() {
        assertEquals(0, Procs.startTime(NO_SUCH_PID));
    }

    @Test
    void startTime_childStartedLater_isNotEarlierThanOurs() throws Exception {
        Process p = blockingChild("cat");
        try {
            assertTrue(Procs.startTime((int) p.pid()) >= Procs.startTime(SELF));
        } finally {
            finish(p);
        }
    }

    @Test
    void alive_selfWithItsStartTime_isTrue() {
        assertTrue(Procs.alive(SELF, Procs.startTime(SELF)));
    }

    @Test
    void alive_selfWithAnotherStartTime_isFalse() {
        assertFalse(Procs.alive(SELF, Procs.startTime(SELF) + 1));
    }

    @Test
    void alive_nonPositivePid_isFalse() {
        assertFalse(Procs.alive(0, 0));
        assertFalse(Procs.alive(-1, 0));
    }

    @Test
    void alive_noSuchProcess_isFalse() {
        assertFalse(Procs.alive(NO_SUCH_PID, 0));
    }

    @Test
    void alive_childBeforeAndAfterItExits() throws Exception {
        Process p = blockingChild("cat");
        int pid = (int) p.pid();
        long start = Procs.startTime(pid);
        assertTrue(start > 0);
        assertTrue(Procs.alive(pid, start), "running child");

        finish(p);

        assertFalse(Procs.alive(pid, start), "exited and reaped child");
    }

    /** comm may hold spaces and parentheses; the fields after it must still be found. */
    @Test
    void startTimeAndAlive_commWithSpacesAndParens_parseCorrectly(@TempDir Path tmp) throws Exception {
        Path cat = Path.of("/bin/cat");
        assumeTrue(Files.isExecutable(cat));
        Path odd = Files.copy(cat, tmp.resolve(") x (y) 1 2"), StandardCopyOption.COPY_ATTRIBUTES);
        Process p;
        try {
            p = blockingChild(odd.toString());
        } catch (IOException e) {
            assumeTrue(false, "cannot exec from the temp dir (noexec?): " + e.getMessage());
            return;
        }
        try {
            int pid = (int) p.pid();
            String comm = Files.readString(Path.of("/proc", Integer.toString(pid), "comm"))
                    .strip();
            assumeTrue(comm.contains(")"), "comm is " + comm); // exec'd, not still the forking JVM helper
            long start = Procs.startTime(pid);

            assertTrue(start >= Procs.startTime(SELF), "start " + start);
            assertTrue(Procs.alive(pid, start));
            assertFalse(Procs.alive(pid, start + 1));
        } finally {
            finish(p);
        }
    }

    @Test
    void zombieChildren_liveChildren_areNotIncluded() throws Exception {
        Process p = blockingChild("cat");
        try {
            assertTrue(Procs.alive((int) p.pid(), 0));

            assertFalse(Procs.zombieChildren(SELF).contains((int) p.pid()));
        } finally {
            finish(p);
        }
    }

    @Test
    void zombieChildren_ofAProcessWithoutChildren_isEmpty() throws Exception {
        Process p = blockingChild("cat");
        try {
            assertEquals(java.util.Set.of(), Procs.zombieChildren(p.pid()));
        } finally {
            finish(p);
        }
    }

    @Test
    void signal_theProcessStartedThen_isSignalled() throws Exception {
        Process p = blockingChild("cat");
        int pid = (int) p.pid();

        assertTrue(Procs.signal(SYS, pid, Procs.startTime(pid), 15));

        assertTrue(p.waitFor(10, TimeUnit.SECONDS), "SIGTERM ended it");
        assertEquals(128 + 15, p.exitValue());
    }

    @Test
    void signal_anotherStartTime_isNotSentAndFalse() throws Exception {
        Process p = blockingChild("cat");
        try {
            int pid = (int) p.pid();

            assertFalse(Procs.signal(SYS, pid, Procs.startTime(pid) + 1, 9));

            assertTrue(p.isAlive(), "a reused pid is never hit");
        } finally {
            finish(p);
        }
    }

    @Test
    void signal_noSuchProcess_isFalse() throws Exception {
        assertFalse(Procs.signal(SYS, NO_SUCH_PID, 1, 15));
    }

    private static final io.stevedore.oci.linux.Syscalls SYS = new io.stevedore.oci.linux.LinuxSyscalls();

    /** Linux's PID_MAX_LIMIT on 64-bit: pid_max cannot exceed it, and pids are below pid_max. */
    private static final int NO_SUCH_PID = 4 * 1024 * 1024;
}

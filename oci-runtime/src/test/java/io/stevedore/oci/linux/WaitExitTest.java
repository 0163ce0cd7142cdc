package io.stevedore.oci.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link LinuxSyscalls#waitExit} on orphans this JVM adopts. The JDK reaps the processes it starts
 * itself, so the processes waited for here are grandchildren: a shell starts them in the background
 * and exits, and since the test JVM is a child subreaper for the duration of this class they become
 * its children. In a class of its own because being a subreaper would make other tests' orphans
 * this JVM's zombies; {@link #stopBeingASubreaper} ends it, and every orphan adopted here is reaped
 * by the test that made it.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class WaitExitTest {
    private static final int SIGKILL = 9;
    private final Syscalls sys = new LinuxSyscalls();

    @BeforeAll
    static void becomeASubreaper() throws Exception {
        new LinuxSyscalls().setChildSubreaper();
    }

    @AfterAll
    static void stopBeingASubreaper() throws Throwable {
        TestFds.clearChildSubreaper();
    }

    @Test
    void orphanThatExits_isReapedWithItsExitCode() throws Exception {
        int pid = orphan("sleep 0.3");
        int pidfd = sys.pidfdOpen(pid);
        assertTrue(pidfd >= 0, "still ours to reap, alive or a zombie");
        try {
            assertEquals(0, sys.waitExit(pidfd));
            assertEquals(-1, sys.pidfdOpen(pid), "reaped: gone");
        } finally {
            sys.close(pidfd);
        }
    }

    @Test
    void orphanThatExitsNonZero_reportsTheCode() throws Exception {
        int pid = orphan("sh -c 'sleep 0.3; exit 7'");
        int pidfd = sys.pidfdOpen(pid);
        try {
            assertEquals(7, sys.waitExit(pidfd));
        } finally {
            sys.close(pidfd);
        }
    }

    @Test
    void orphanKilledBySigkill_is137() throws Exception {
        int pid = orphan("sleep 30");
        int pidfd = sys.pidfdOpen(pid);
        try {
            assertTrue(sys.pidfdSendSignal(pidfd, SIGKILL));
            assertEquals(128 + SIGKILL, sys.waitExit(pidfd));
        } finally {
            sys.close(pidfd);
        }
    }

    @Test
    void notOurChild_isEchild() throws Exception {
        int pidfd = sys.pidfdOpen((int) ProcessHandle.current().pid());
        try {
            var e = assertThrows(SyscallException.class, () -> sys.waitExit(pidfd));
            assertEquals(Errno.ECHILD, e.errno());
        } finally {
            sys.close(pidfd);
        }
    }

    @Test
    void exitCode_fromSiCodeAndSiStatus() {
        assertEquals(7, LinuxSyscalls.exitCode(1, 7)); // CLD_EXITED
        assertEquals(255, LinuxSyscalls.exitCode(1, 255));
        assertEquals(137, LinuxSyscalls.exitCode(2, 9)); // CLD_KILLED
        assertEquals(134, LinuxSyscalls.exitCode(3, 6)); // CLD_DUMPED
    }

    /**
     * Runs {@code command} in the background of a shell that prints its pid and exits, leaving it
     * to this JVM. Its output goes to /dev/null so the shell's pipe closes when the shell exits.
     */
    private static int orphan(String command) throws Exception {
        Process sh = new ProcessBuilder("sh", "-c", command + " </dev/null >/dev/null 2>&1 & echo $!")
                .redirectErrorStream(true)
                .start();
        String line;
        try (var out = new BufferedReader(new InputStreamReader(sh.getInputStream(), StandardCharsets.UTF_8))) {
            line = out.readLine();
        }
        assertEquals(0, sh.waitFor(), "the shell exited; its background job is now ours");
        return Integer.parseInt(line.strip());
    }
}

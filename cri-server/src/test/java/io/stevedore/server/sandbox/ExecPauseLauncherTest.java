package io.stevedore.server.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ExecPauseLauncherTest {
    /**
     * Issue 13: a stray pause killed half-way through its join is still in the daemon's cgroup in
     * some hierarchies; taking that for the pod's made recovery try to remove the daemon's cgroup
     * and leave the pod's. A process in no pod cgroup (this test's) has none.
     */
    @Test
    void cgroupOf_aProcessInNoPodCgroup_isEmpty() {
        assertEquals(
                "", ExecPauseLauncher.cgroupOf((int) ProcessHandle.current().pid()));
    }

    @Test
    void cgroupOf_aProcessThatIsGone_isEmpty() {
        assertEquals("", ExecPauseLauncher.cgroupOf(Integer.MAX_VALUE));
    }
}

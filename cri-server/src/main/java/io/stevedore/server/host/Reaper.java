package io.stevedore.server.host;

import io.stevedore.oci.linux.Syscalls;
import java.util.HashSet;
import java.util.Set;

/**
 * The daemon is a child subreaper ({@code PR_SET_CHILD_SUBREAPER}): orphans of its shims and of
 * runtime processes are reparented to it and must be reaped, or they stay zombies. Every second, a
 * zombie child seen on two sweeps in a row is reaped: it is not one the JDK started (the JDK reaps
 * its own children at once), and the container services reap the shims they know themselves.
 */
public final class Reaper implements AutoCloseable {
    private final Syscalls sys;
    private final Thread thread;

    private Reaper(Syscalls sys) {
        this.sys = sys;
        this.thread = Thread.ofPlatform().daemon().name("reaper").unstarted(this::run);
    }

    public static Reaper start(Syscalls sys) {
        var r = new Reaper(sys);
        r.thread.start();
        return r;
    }

    private void run() {
        Set<Integer> seen = new HashSet<>();
        while (true) {
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                return;
            }
            var now = Procs.zombieChildren(ProcessHandle.current().pid());
            for (int z : now) {
                if (seen.contains(z)) sys.reap(z);
            }
            seen.clear();
            seen.addAll(now);
        }
    }

    @Override
    public void close() {
        thread.interrupt();
    }
}

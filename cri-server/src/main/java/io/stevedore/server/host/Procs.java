package io.stevedore.server.host;

import io.stevedore.oci.linux.SyscallException;
import io.stevedore.oci.linux.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A process named by pid and start time, as conmon and CRI-O name their monitors: a pid alone may
 * be reused after a reboot or a long outage; the pair cannot.
 */
public final class Procs {
    private Procs() {}

    /**
     * The start time of {@code pid} in clock ticks since boot ({@code /proc/<pid>/stat} field 22),
     * or 0 when there is no such process.
     */
    public static long startTime(int pid) {
        String stat = stat(pid);
        if (stat == null) return 0;
        // comm (field 2) may hold spaces and parentheses: fields restart after the last ')'.
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[19]); // field 22 is the 20th after the state (field 3)
    }

    /** Whether {@code pid} is the process started at {@code startTime} and has not exited. */
    public static boolean alive(int pid, long startTime) {
        if (pid <= 0) return false;
        String stat = stat(pid);
        if (stat == null) return false;
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        char state = f[0].charAt(0);
        if (state == 'Z' || state == 'X') return false;
        return startTime == 0 || Long.parseLong(f[19]) == startTime;
    }

    /**
     * Sends {@code signal} to {@code pid} if it is still the process started at {@code startTime},
     * through a pidfd: the descriptor is opened first and the start time checked after, so a pid
     * reused in between can never be hit. Returns false when that process is gone.
     */
    public static boolean signal(Syscalls sys, int pid, long startTime, int signal) throws SyscallException {
        int fd = sys.pidfdOpen(pid);
        if (fd < 0) return false;
        try {
            return startTime(pid) == startTime && sys.pidfdSendSignal(fd, signal);
        } finally {
            sys.close(fd);
        }
    }

    /** The pid a pid file holds (as runtimes and the shim write them); 0 when it is absent or not a pid. */
    public static int readPidFile(Path file) {
        try {
            return Integer.parseInt(Files.readString(file).strip());
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    private static String stat(int pid) {
        try {
            return Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
        } catch (IOException e) {
            return null;
        }
    }

    /** Children of {@code parent} that are zombies (from {@code /proc/<pid>/stat}). */
    public static java.util.Set<Integer> zombieChildren(long parent) {
        var out = new java.util.HashSet<Integer>();
        try (var ds = Files.newDirectoryStream(
                Path.of("/proc"), p -> p.getFileName().toString().matches("[0-9]+"))) {
            for (Path p : ds) {
                int pid = Integer.parseInt(p.getFileName().toString());
                String stat = stat(pid);
                if (stat == null) continue;
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                if (f[0].equals("Z") && Long.parseLong(f[1]) == parent) out.add(pid);
            }
        } catch (IOException | RuntimeException e) {
            // best effort: the next sweep tries again
        }
        return out;
    }
}

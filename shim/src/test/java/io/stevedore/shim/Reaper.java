package io.stevedore.shim;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Makes the test JVM a child subreaper, so the shims it launches (double-forked, hence orphaned)
 * become its children and can be reaped here instead of lingering as zombies under a PID 1 that
 * may not reap (as in some CI sandboxes).
 */
final class Reaper {
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

    private Reaper() {}

    static void becomeSubreaper() {
        try {
            int r = (int) PRCTL.invokeExact(PR_SET_CHILD_SUBREAPER, 1L);
            if (r != 0) throw new IllegalStateException("prctl(PR_SET_CHILD_SUBREAPER) failed");
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Reaps pid if it has exited; true once it is gone. */
    static boolean reaped(int pid) {
        int r;
        try {
            r = (int) WAITPID.invokeExact(pid, MemorySegment.NULL, WNOHANG);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        return r == pid || (r == -1 && !Files.exists(Path.of("/proc/" + pid)));
    }
}

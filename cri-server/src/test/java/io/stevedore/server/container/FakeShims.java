package io.stevedore.server.container;

import io.stevedore.shim.ExitFile;
import io.stevedore.shim.ShimException;
import io.stevedore.shim.ShimSpec;
import io.stevedore.shim.ShimStarted;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;

/**
 * Shims without the shim: two real, unprivileged processes per container. The "init" runs the
 * workload ({@link #command}, {@code sleep} by default), the "shim" is a {@code sleep} standing for
 * the monitor; when the init ends, the fake writes the exit file the way the shim does (code, or
 * 128+signal; tmp then rename) and ends the "shim". So signals, pidfds, start times and exit files
 * are all real, and nothing needs root.
 */
final class FakeShims implements Shims {
    /** One container's processes. */
    record Run(Process shim, Process init) {}

    final Map<String, Run> runs = new ConcurrentHashMap<>();
    /** The init's command line, by the spec it is started for. */
    volatile Function<ShimSpec, List<String>> command = spec -> List.of("sleep", "100000");
    /** When set, the next start fails with it (the runtime's create failed). */
    volatile ShimException failNext;
    /** When set, a start waits for it after counting down {@link #entered}. */
    volatile CountDownLatch gate;

    final CountDownLatch entered = new CountDownLatch(1);

    @Override
    public ShimStarted start(ShimSpec spec) throws ShimException, InterruptedException {
        var g = gate;
        if (g != null) {
            entered.countDown();
            g.await();
        }
        var fail = failNext;
        if (fail != null) {
            failNext = null;
            throw fail;
        }
        try {
            Process shim = new ProcessBuilder("sleep", "100000").start();
            Process init = new ProcessBuilder(command.apply(spec))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            Files.writeString(spec.shimPidFile(), Long.toString(shim.pid()));
            runs.put(spec.containerId(), new Run(shim, init));
            // A thread of its own waits (not onExit(): that completes on the common pool, which the
            // tests' own blocking calls may occupy).
            Thread.ofVirtual().start(() -> {
                try {
                    init.waitFor();
                } catch (InterruptedException e) {
                    return;
                }
                exited(spec, init, shim);
            });
            return new ShimStarted((int) init.pid());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void exited(ShimSpec spec, Process init, Process shim) {
        try {
            Path tmp = spec.exitDir().resolve(spec.containerId() + ".tmp");
            Files.writeString(tmp, Integer.toString(init.exitValue()));
            Files.move(tmp, ExitFile.path(spec.exitDir(), spec.containerId()), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            // the test's directory is gone: nobody is waiting
        } finally {
            shim.destroyForcibly();
        }
    }

    /** Signals a container's init as {@code <runtime> kill} would. */
    void signal(String id, int signal) {
        Run r = runs.get(id);
        if (r == null) return;
        try {
            new ProcessBuilder("kill", "-" + signal, Long.toString(r.init().pid()))
                    .start()
                    .waitFor();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Processes still alive, for the leak check after each test. */
    long alive() {
        return runs.values().stream()
                .filter(r -> r.init().isAlive() || r.shim().isAlive())
                .count();
    }

    void killAll() {
        runs.values().forEach(r -> {
            r.init().destroyForcibly();
            r.shim().destroyForcibly();
        });
    }
}

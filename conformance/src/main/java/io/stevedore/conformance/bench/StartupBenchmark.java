package io.stevedore.conformance.bench;

import io.grpc.StatusRuntimeException;
import io.stevedore.conformance.CriClient;
import io.stevedore.conformance.DaemonProcess;
import io.stevedore.conformance.LiveDaemon;
import io.stevedore.cri.v1.VersionRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Daemon start-up: wall time from launching the process to the first answered CRI {@code
 * Version}, and resident memory after it has sat idle. Runs Stevedore (from this checkout) and,
 * with {@code --containerd PATH}, a private containerd instance (own root, state and socket, its
 * CRI plugin on default settings) in the same run, alternating, so both see the same machine.
 *
 * <pre>
 * mvn -q -pl conformance -am -DskipTests package
 * mvn -q -pl conformance exec:java -Dexec.mainClass=io.stevedore.conformance.bench.StartupBenchmark \
 *     -Dstevedore.home=$PWD -Dexec.args="--runs 10 --idle 5 --containerd /usr/bin/containerd"
 * </pre>
 *
 * Time is measured from just before {@code fork}/{@code exec} to the first OK answer; the client
 * waits for the socket file and retries an UNAVAILABLE answer at once, so the figure is the
 * daemon's, not the poll interval's (1 ms).
 */
public final class StartupBenchmark {
    private StartupBenchmark() {}

    record Sample(double startMillis, long rssKb) {}

    public static void main(String[] args) throws Exception {
        int runs = 10;
        int idleSeconds = 5;
        String containerd = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--idle" -> idleSeconds = Integer.parseInt(args[++i]);
                case "--containerd" -> containerd = args[++i];
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        List<Sample> ours = new ArrayList<>();
        List<Sample> theirs = new ArrayList<>();
        for (int r = 0; r < runs; r++) {
            ours.add(stevedore(idleSeconds));
            if (containerd != null) {
                theirs.add(containerd(containerd, idleSeconds));
            }
        }
        System.out.printf("runs=%d idle=%ds%n", runs, idleSeconds);
        report("stevedore", ours);
        if (containerd != null) {
            report("containerd", theirs);
        }
    }

    private static Sample stevedore(int idleSeconds) throws Exception {
        Path dir = Files.createTempDirectory("sd-bench-");
        try {
            long t0 = System.nanoTime();
            try (DaemonProcess d = DaemonProcess.launch(dir, "--log-level", "info")) {
                double ms = firstVersion(d.socket(), d.process(), t0);
                long rss = idleRss(d.process().pid(), idleSeconds);
                int code = d.terminate();
                if (code != 0) {
                    throw new IllegalStateException("stevedore exited " + code + ": " + d.stderrText());
                }
                return new Sample(ms, rss);
            }
        } finally {
            LiveDaemon.deleteTree(dir);
        }
    }

    private static Sample containerd(String binary, int idleSeconds) throws Exception {
        try (var ctd = new PrivateContainerd(binary, "")) {
            double ms = firstVersion(ctd.socket(), ctd.process(), ctd.startedNanos());
            return new Sample(ms, idleRss(ctd.process().pid(), idleSeconds));
        }
    }

    /** Milliseconds from {@code t0} to the first successful Version on {@code socket}. */
    private static double firstVersion(Path socket, Process p, long t0) throws InterruptedException {
        long deadline = t0 + Duration.ofSeconds(60).toNanos();
        while (!Files.exists(socket)) {
            check(p, deadline);
            Thread.sleep(1);
        }
        try (var client = CriClient.connect(socket)) {
            while (true) {
                try {
                    client.runtime().withWaitForReady().version(VersionRequest.getDefaultInstance());
                    return (System.nanoTime() - t0) / 1e6;
                } catch (StatusRuntimeException e) {
                    check(p, deadline); // UNAVAILABLE while the daemon finishes starting: ask again
                }
            }
        }
    }

    private static void check(Process p, long deadline) {
        if (!p.isAlive()) {
            throw new IllegalStateException("daemon exited with " + p.exitValue() + " before answering");
        }
        if (System.nanoTime() > deadline) {
            throw new IllegalStateException("daemon did not answer Version within 60 s");
        }
    }

    private static long idleRss(long pid, int idleSeconds) throws InterruptedException, IOException {
        Thread.sleep(idleSeconds * 1000L); // a benchmark, not a test: idle means idle
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("no VmRSS for pid " + pid);
    }

    private static void report(String name, List<Sample> samples) {
        double[] ms = samples.stream().mapToDouble(Sample::startMillis).sorted().toArray();
        double[] mb =
                samples.stream().mapToDouble(s -> s.rssKb() / 1024.0).sorted().toArray();
        System.out.printf(
                "%-11s start-to-first-Version ms: median %.0f  min %.0f  max %.0f | idle RSS MiB: median %.1f  min %.1f  max %.1f%n",
                name, median(ms), ms[0], ms[ms.length - 1], median(mb), mb[0], mb[mb.length - 1]);
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}

package io.stevedore.server.stats;

import io.stevedore.cri.v1.NetworkInterfaceUsage;
import io.stevedore.cri.v1.NetworkUsage;
import io.stevedore.cri.v1.UInt64Value;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A pod's interface counters, read inside its pinned network namespace. {@code /proc/net/dev}
 * shows the namespace of the reader, so the reader is {@code nsenter --net=<pin> cat
 * /proc/net/dev}: a JVM thread cannot safely {@code setns(2)} itself (the carrier of a virtual
 * thread, and the JVM's own threads, would stay behind), and a pinned namespace may hold no
 * process whose {@code /proc/<pid>/net/dev} we could read instead.
 *
 * <p>Stats are best effort: a missing pin, a failing or slow reader gives {@link
 * Optional#empty()}, never an exception, and the reader is killed at the timeout. Thread-safe.
 */
public final class NetworkStats {
    /** The interface CNI plugins create for the pod; containerd reports it as the default. */
    public static final String DEFAULT_INTERFACE = "eth0";

    private static final Logger log = LoggerFactory.getLogger(NetworkStats.class);
    private static final int MAX_OUTPUT = 1 << 20;

    private final Duration timeout;
    private final InstantSource clock;
    private final Function<Path, List<String>> command;

    public NetworkStats(Duration timeout, InstantSource clock) {
        this(timeout, clock, pin -> List.of("nsenter", "--net=" + pin, "cat", "/proc/net/dev"));
    }

    /** @param command the reader's argv for a pin; tests substitute their own */
    NetworkStats(Duration timeout, InstantSource clock, Function<Path, List<String>> command) {
        this.timeout = timeout;
        this.clock = clock;
        this.command = command;
    }

    /** One interface's {@code /proc/net/dev} counters. */
    public record InterfaceCounters(
            String name,
            long rxBytes,
            long rxPackets,
            long rxErrors,
            long rxDropped,
            long txBytes,
            long txPackets,
            long txErrors,
            long txDropped) {}

    /** @param netnsPin the bind-mounted namespace, e.g. {@code /run/netns/cni-…} */
    public Optional<NetworkUsage> read(Path netnsPin) {
        Instant at = clock.instant();
        return counters(netnsPin).map(c -> toProto(c, at));
    }

    /**
     * The counters of every interface but loopback, in {@code /proc/net/dev} order; empty on the
     * same best-effort terms as {@link #read}.
     */
    public Optional<List<InterfaceCounters>> counters(Path netnsPin) {
        if (!Files.exists(netnsPin)) {
            return Optional.empty();
        }
        Process p = null;
        try {
            p = new ProcessBuilder(command.apply(netnsPin))
                    .redirectInput(
                            ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            // read while it runs: a host with many interfaces could fill the pipe and stall the reader
            InputStream stdout = p.getInputStream();
            var out = new FutureTask<>(() -> stdout.readNBytes(MAX_OUTPUT));
            Thread.ofVirtual().name("netstats-" + netnsPin.getFileName()).start(out);
            long deadline = System.nanoTime() + timeout.toNanos();
            if (!p.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                log.atDebug().addKeyValue("netns", netnsPin).log("network stats: reader timed out after {}", timeout);
                return Optional.empty();
            }
            // it exited, so end of file is at most a moment away even when the deadline has just passed
            long grace = Math.max(deadline - System.nanoTime(), TimeUnit.MILLISECONDS.toNanos(100));
            byte[] bytes = out.get(grace, TimeUnit.NANOSECONDS);
            if (p.exitValue() != 0) {
                log.atDebug().addKeyValue("netns", netnsPin).log("network stats: reader exited with {}", p.exitValue());
                return Optional.empty();
            }
            return Optional.of(parseCounters(new String(bytes, StandardCharsets.UTF_8)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        } catch (IOException | ExecutionException | TimeoutException | RuntimeException e) {
            log.atDebug().setCause(e).addKeyValue("netns", netnsPin).log("network stats: no reading");
            return Optional.empty();
        } finally {
            if (p != null) {
                p.destroyForcibly(); // no-op once it exited; on a timeout, the reader thread then sees EOF
                closeQuietly(p);
            }
        }
    }

    private static void closeQuietly(Process p) {
        try {
            p.getInputStream().close();
        } catch (IOException e) {
            // nothing left to release
        }
    }

    /**
     * Parses {@code /proc/net/dev}: two header lines, then {@code name: rx-bytes rx-packets rx-errs
     * rx-drop rx-fifo rx-frame rx-compressed rx-multicast tx-bytes tx-packets tx-errs tx-drop ...}
     * per interface (a large counter may touch the colon). Loopback is left out; lines that do not
     * parse are skipped.
     */
    static List<InterfaceCounters> parseCounters(String procNetDev) {
        List<InterfaceCounters> all = new ArrayList<>();
        for (String line : procNetDev.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue; // header
            }
            String name = line.substring(0, colon).strip();
            String[] f = line.substring(colon + 1).strip().split("\\s+");
            if (name.isEmpty() || name.equals("lo") || f.length < 12) {
                continue;
            }
            try {
                all.add(new InterfaceCounters(
                        name,
                        u64(f[0]),
                        u64(f[1]),
                        u64(f[2]),
                        u64(f[3]),
                        u64(f[8]),
                        u64(f[9]),
                        u64(f[10]),
                        u64(f[11])));
            } catch (NumberFormatException e) {
                // not an interface line
            }
        }
        return all;
    }

    /**
     * {@code /proc/net/dev} as CRI's {@code NetworkUsage}: the default interface is {@code eth0},
     * else the first one listed, as in containerd's {@code sandbox_stats_linux.go}.
     */
    static NetworkUsage parse(String procNetDev, Instant at) {
        return toProto(parseCounters(procNetDev), at);
    }

    private static NetworkUsage toProto(List<InterfaceCounters> counters, Instant at) {
        var usage = NetworkUsage.newBuilder().setTimestamp(CriStats.nanos(at));
        for (InterfaceCounters c : counters) {
            NetworkInterfaceUsage iface = NetworkInterfaceUsage.newBuilder()
                    .setName(c.name())
                    .setRxBytes(UInt64Value.newBuilder().setValue(c.rxBytes()))
                    .setRxErrors(UInt64Value.newBuilder().setValue(c.rxErrors()))
                    .setTxBytes(UInt64Value.newBuilder().setValue(c.txBytes()))
                    .setTxErrors(UInt64Value.newBuilder().setValue(c.txErrors()))
                    .build();
            usage.addInterfaces(iface);
            if (c.name().equals(DEFAULT_INTERFACE)) {
                usage.setDefaultInterface(iface);
            }
        }
        if (!usage.hasDefaultInterface() && usage.getInterfacesCount() > 0) {
            usage.setDefaultInterface(usage.getInterfaces(0));
        }
        return usage.build();
    }

    private static long u64(String counter) {
        return Long.parseUnsignedLong(counter);
    }
}

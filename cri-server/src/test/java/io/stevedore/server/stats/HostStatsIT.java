package io.stevedore.server.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.stevedore.cri.v1.NetworkInterfaceUsage;
import io.stevedore.cri.v1.NetworkUsage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Stats from this machine: its root cgroup, and a network namespace made with {@code ip netns
 * add} holding a veth pair, {@code eth0} and {@code peer0}. The namespace (and the pair in it) is
 * deleted after each test.
 */
@Tag("root")
class HostStatsIT {
    private final String nsName = "stevedore-stats-it-"
            + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    private final Path pin = Path.of("/run/netns", nsName);

    @BeforeEach
    void requireRoot() throws IOException {
        assumeTrue(
                Files.readAllLines(Path.of("/proc/self/status")).stream()
                        .anyMatch(l -> l.startsWith("Uid:") && l.split("\\s+")[1].equals("0")),
                "needs root");
    }

    @AfterEach
    void deleteNetns() throws Exception {
        if (Files.exists(pin)) {
            run("ip", "netns", "del", nsName);
        }
        assertFalse(Files.exists(pin), "netns " + nsName + " left behind");
    }

    @Test
    void read_rootCgroup_hasThisMachinesCounters() {
        var cgroups = new CgroupStats();

        CgroupSample s = cgroups.read("/").orElseThrow();

        assertTrue(s.cpuUsageNanos() > 0, "the machine has run something: " + s);
        if (!cgroups.isUnified()) {
            // the v2 root has no memory.current; the v1 root charges everything
            assertTrue(s.memoryUsageBytes() > 0, s.toString());
            assertTrue(s.workingSetBytes() > 0 && s.workingSetBytes() <= s.memoryUsageBytes(), s.toString());
            assertEquals(OptionalLong.empty(), s.memoryLimitBytes(), "the root is never limited");
        }
        var cri = new CriStats(InstantSource.system());
        assertEquals(
                s.cpuUsageNanos(),
                cri.cpu("root", Optional.of(s)).getUsageCoreNanoSeconds().getValue());
        assertTrue(cri.memory(Optional.of(s)).getTimestamp() > 0);
    }

    @Test
    void read_netnsFromIp_countsItsInterfaces() throws Exception {
        run("ip", "netns", "add", nsName);
        run("ip", "-n", nsName, "link", "set", "lo", "up");
        run("ip", "-n", nsName, "link", "add", "eth0", "type", "veth", "peer", "name", "peer0");
        run("ip", "-n", nsName, "addr", "add", "10.254.254.1/24", "dev", "eth0");
        run("ip", "-n", nsName, "addr", "add", "10.254.254.2/24", "dev", "peer0");
        run("ip", "-n", nsName, "link", "set", "eth0", "up");
        run("ip", "-n", nsName, "link", "set", "peer0", "up");
        // both ends are in the namespace: nothing leaves it
        run("ip", "netns", "exec", nsName, "bash", "-c", "echo stats > /dev/udp/10.254.254.2/9");

        long txBefore = sysfsTxBytes();
        NetworkUsage u = new NetworkStats(Duration.ofSeconds(5), InstantSource.system())
                .read(pin)
                .orElseThrow();
        long txAfter = sysfsTxBytes();

        var names = u.getInterfacesList().stream()
                .map(NetworkInterfaceUsage::getName)
                .sorted()
                .toList();
        assertEquals(List.of("eth0", "peer0"), names, "lo left out");
        NetworkInterfaceUsage eth0 = u.getDefaultInterface();
        assertEquals("eth0", eth0.getName());
        // IPv6 neighbour discovery may send while we read, so the counter is bracketed, not matched.
        // (The UDP datagram is routed locally, not through eth0, so the counter may still be 0.)
        long tx = eth0.getTxBytes().getValue();
        assertTrue(txBefore <= tx && tx <= txAfter, txBefore + " <= " + tx + " <= " + txAfter);
    }

    private long sysfsTxBytes() throws Exception {
        String tx = run("ip", "netns", "exec", nsName, "cat", "/sys/class/net/eth0/statistics/tx_bytes");
        return Long.parseLong(tx.strip());
    }

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), String.join(" ", cmd) + " did not finish");
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
        return out;
    }
}

package io.stevedore.server.stats;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.cri.v1.NetworkInterfaceUsage;
import io.stevedore.cri.v1.NetworkUsage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NetworkStatsTest {
    private static final Instant NOW = Instant.ofEpochSecond(1_795_392_000L);

    /** A pod's {@code /proc/net/dev} as Linux 6.x prints it; eth1's receive bytes touch the colon. */
    private static final String PROC_NET_DEV = """
      Inter-|   Receive                                                |  Transmit
       face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
          lo:     560       8    0    0    0     0          0         0      560       8    0    0    0     0       0          0
        eth0:   14252     117    1    0    0     0          0         0     5326      42    2    0    0     0       0          0
      eth1:18446744073709551615 9 0 0 0 0 0 0 77 1 0 0 0 0 0 0
      """;

    @TempDir
    Path tmp;

    @Test
    void parse_skipsHeadersAndLoopback_eth0IsTheDefault() {
        NetworkUsage u = NetworkStats.parse(PROC_NET_DEV, NOW);

        assertEquals(1_795_392_000_000_000_000L, u.getTimestamp());
        assertEquals(
                List.of("eth0", "eth1"),
                u.getInterfacesList().stream()
                        .map(NetworkInterfaceUsage::getName)
                        .toList());
        NetworkInterfaceUsage eth0 = u.getDefaultInterface();
        assertEquals("eth0", eth0.getName());
        assertEquals(14252, eth0.getRxBytes().getValue());
        assertEquals(1, eth0.getRxErrors().getValue());
        assertEquals(5326, eth0.getTxBytes().getValue());
        assertEquals(2, eth0.getTxErrors().getValue());
        assertEquals(-1L, u.getInterfaces(1).getRxBytes().getValue(), "u64 max survives as its bit pattern");
        assertEquals(77, u.getInterfaces(1).getTxBytes().getValue());
    }

    @Test
    void parseCounters_packetsAndDropsOfEveryInterfaceButLoopback() {
        var all = NetworkStats.parseCounters(PROC_NET_DEV);

        assertEquals(new NetworkStats.InterfaceCounters("eth0", 14252, 117, 1, 0, 5326, 42, 2, 0), all.get(0));
        assertEquals(9, all.get(1).rxPackets());
        assertEquals(2, all.size());
    }

    @Test
    void parse_noEth0_firstInterfaceIsTheDefault() {
        NetworkUsage u = NetworkStats.parse("""
        Inter-|   Receive
         face |bytes
            lo: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0
          net1: 10 1 0 0 0 0 0 0 20 2 0 0 0 0 0 0
        """, NOW);

        assertEquals("net1", u.getDefaultInterface().getName());
    }

    @Test
    void parse_onlyLoopbackOrGarbage_noInterfaces() {
        NetworkUsage u = NetworkStats.parse("""
        lo: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0
        eth0: not numbers at all here x y z w v u t
        short: 1 2 3
        """, NOW);

        assertEquals(0, u.getInterfacesCount());
        assertFalse(u.hasDefaultInterface());
        assertEquals(1_795_392_000_000_000_000L, u.getTimestamp());
    }

    @Test
    void read_runsTheReaderForThePin() throws IOException {
        Path pin = Files.createFile(tmp.resolve("netns"));
        Path dev = Files.writeString(tmp.resolve("dev"), PROC_NET_DEV);
        var stats = new NetworkStats(
                Duration.ofSeconds(10),
                InstantSource.fixed(NOW),
                p -> List.of("cat", p.equals(pin) ? dev.toString() : "/nonexistent"));

        NetworkUsage u = stats.read(pin).orElseThrow();

        assertEquals(5326, u.getDefaultInterface().getTxBytes().getValue());
    }

    @Test
    void read_missingPin_isEmpty() {
        var stats = new NetworkStats(Duration.ofSeconds(10), InstantSource.system());

        assertEquals(Optional.empty(), stats.read(tmp.resolve("gone")));
    }

    @Test
    void read_readerFails_isEmpty() throws IOException {
        Path pin = Files.createFile(tmp.resolve("netns"));

        assertEquals(
                Optional.empty(),
                new NetworkStats(Duration.ofSeconds(10), InstantSource.system(), p -> List.of("false")).read(pin));
        assertEquals(
                Optional.empty(),
                new NetworkStats(
                                Duration.ofSeconds(10),
                                InstantSource.system(),
                                p -> List.of(tmp.resolve("no-such-program").toString()))
                        .read(pin));
    }

    @Test
    void read_readerTooSlow_isEmptyAndTheReaderIsKilled() throws IOException {
        Path pin = Files.createFile(tmp.resolve("netns"));
        var stats = new NetworkStats(Duration.ofMillis(200), InstantSource.system(), p -> List.of("sleep", "60"));

        long start = System.nanoTime();
        assertEquals(Optional.empty(), stats.read(pin));

        assertTrue(System.nanoTime() - start < Duration.ofSeconds(5).toNanos(), "bounded by the timeout");
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertEquals(
                        List.of(),
                        ProcessHandle.current()
                                .descendants()
                                .filter(ProcessHandle::isAlive)
                                .filter(h -> h.info().command().orElse("").endsWith("sleep"))
                                .toList()));
    }
}

package io.stevedore.server.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.stevedore.cri.v1.HugepageLimit;
import io.stevedore.cri.v1.LinuxContainerResources;
import io.stevedore.oci.spec.Resources;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PodResourcesTest {
    @Test
    void limits_areTheContainersSumPlusTheOverhead() {
        var overhead = LinuxContainerResources.newBuilder()
                .setCpuShares(24)
                .setCpuQuota(5_000)
                .setMemoryLimitInBytes(1_000)
                .addHugepageLimits(HugepageLimit.newBuilder().setPageSize("2MB").setLimit(2))
                .build();
        var resources = LinuxContainerResources.newBuilder()
                .setCpuShares(1000)
                .setCpuQuota(100_000)
                .setCpuPeriod(100_000)
                .setMemoryLimitInBytes(10_000)
                .setCpusetCpus("0-1")
                .addHugepageLimits(HugepageLimit.newBuilder().setPageSize("2MB").setLimit(4))
                .putUnified("memory.high", "9000")
                .build();

        Resources l = new PodResources(overhead, resources).limits();

        assertEquals(1024L, l.cpu().shares());
        assertEquals(105_000L, l.cpu().quota());
        assertEquals(100_000L, l.cpu().period());
        assertEquals("0-1", l.cpu().cpus());
        assertNull(l.cpu().mems(), "an empty cpuset is left as it is");
        assertEquals(11_000L, l.memory().limit());
        assertEquals(List.of(new Resources.HugepageLimit("2MB", 6)), l.hugepageLimits());
        assertEquals(Map.of("memory.high", "9000"), l.unified());
    }

    @Test
    void limits_noLimitInTheResources_isNoLimitEvenWithAnOverhead() {
        var overhead = LinuxContainerResources.newBuilder()
                .setCpuQuota(5_000)
                .setMemoryLimitInBytes(1_000)
                .build();

        Resources l = new PodResources(overhead, LinuxContainerResources.getDefaultInstance()).limits();

        assertEquals(-1L, l.memory().limit());
        assertEquals(-1L, l.cpu().quota());
        assertNull(l.cpu().shares());
        assertNull(l.cpu().period());
    }
}

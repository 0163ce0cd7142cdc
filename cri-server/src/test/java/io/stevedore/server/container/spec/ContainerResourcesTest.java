package io.stevedore.server.container.spec;

import static io.stevedore.server.container.spec.SpecFixture.config;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.stevedore.cri.v1.HugepageLimit;
import io.stevedore.cri.v1.LinuxContainerConfig;
import io.stevedore.cri.v1.LinuxContainerResources;
import io.stevedore.oci.spec.Resources;
import io.stevedore.oci.spec.Spec;
import io.stevedore.oci.spec.SpecJson;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ContainerResourcesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SpecFixture f;

    @BeforeEach
    void setUp(@TempDir Path dir) {
        f = new SpecFixture(dir);
    }

    private Spec withResources(LinuxContainerResources.Builder r) {
        return f.generate(config().setLinux(LinuxContainerConfig.newBuilder().setResources(r)));
    }

    private static LinuxContainerResources.Builder all() {
        return LinuxContainerResources.newBuilder()
                .setCpuShares(512)
                .setCpuQuota(50000)
                .setCpuPeriod(100000)
                .setCpusetCpus("0-1")
                .setCpusetMems("0")
                .setMemoryLimitInBytes(256L << 20)
                .setOomScoreAdj(500)
                .addHugepageLimits(HugepageLimit.newBuilder().setPageSize("2MB").setLimit(4L << 20))
                .putUnified("memory.high", "200000000");
    }

    @Test
    void generate_criResources_areLinuxResources() throws IOException {
        Spec spec = withResources(all());

        assertEquals(
                JSON.readTree("""
        {
          "devices": [{"allow": false, "access": "rwm"}],
          "memory": {"limit": 268435456, "swap": 268435456},
          "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0-1", "mems": "0"},
          "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}],
          "unified": {"memory.high": "200000000"}
        }"""), JSON.readTree(SpecJson.toJson(spec.linux().resources())));
        assertEquals(500, spec.process().oomScoreAdj());
    }

    @Test
    void generate_noCriResources_noLimitsAndOomScoreInherited() {
        Spec spec = f.generate(config());

        assertEquals(
                Resources.EMPTY.withDevices(List.of(Resources.DeviceRule.denyAll())),
                spec.linux().resources());
        assertNull(spec.process().oomScoreAdj());
    }

    @Test
    void generate_oomScoreAdjBelowOurs_isClampedToOurs() {
        Spec spec = withResources(LinuxContainerResources.newBuilder().setOomScoreAdj(-997));

        assertEquals(0, spec.process().oomScoreAdj());
    }

    @ParameterizedTest
    @CsvSource({"-997, 0, 0", "-997, -999, -997", "500, 0, 500", "5000, 0, 1000", "-5000, -1000, -1000", "0, 0, 0"})
    void oomScoreAdj_neverBelowTheFloorNorOutsideTheKernelsRange(long adj, int floor, int expected) {
        var r = LinuxContainerResources.newBuilder().setOomScoreAdj(adj).build();

        assertEquals(expected, ContainerSpecGenerator.oomScoreAdj(r, floor));
    }

    @Test
    void resources_explicitSwapLimit_isUsed() {
        var r = LinuxContainerResources.newBuilder()
                .setMemoryLimitInBytes(100)
                .setMemorySwapLimitInBytes(300)
                .build();

        assertEquals(
                new Resources.Memory(100L, null, 300L, null, null, null, null),
                ContainerSpecGenerator.resources(null, r, true).memory());
    }

    @Test
    void resources_swapNotLimitable_leavesSwapUnset() {
        var r = LinuxContainerResources.newBuilder()
                .setMemoryLimitInBytes(100)
                .setMemorySwapLimitInBytes(300)
                .build();

        assertEquals(
                Resources.Memory.ofLimit(100),
                ContainerSpecGenerator.resources(null, r, false).memory());
    }

    @Test
    void resources_update_mergesOntoTheCurrentLimits() {
        Resources current = ContainerSpecGenerator.resources(
                Resources.EMPTY.withDevices(List.of(Resources.DeviceRule.denyAll())), all().build(), true);
        var update = LinuxContainerResources.newBuilder()
                .setCpuQuota(20000)
                .setMemoryLimitInBytes(512L << 20)
                .addHugepageLimits(HugepageLimit.newBuilder().setPageSize("2MB").setLimit(8L << 20))
                .addHugepageLimits(HugepageLimit.newBuilder().setPageSize("1GB").setLimit(1L << 30))
                .putUnified("memory.low", "1")
                .build();

        Resources updated = ContainerSpecGenerator.resources(current, update, true);

        assertEquals(List.of(Resources.DeviceRule.denyAll()), updated.devices());
        assertEquals(new Resources.Cpu(512L, 20000L, null, 100000L, null, null, "0-1", "0", null), updated.cpu());
        assertEquals(new Resources.Memory(512L << 20, null, 512L << 20, null, null, null, null), updated.memory());
        assertEquals(
                List.of(new Resources.HugepageLimit("2MB", 8L << 20), new Resources.HugepageLimit("1GB", 1L << 30)),
                updated.hugepageLimits());
        assertEquals(Map.of("memory.high", "200000000", "memory.low", "1"), updated.unified());
    }

    @Test
    void generate_cgroupsPath_isUnderThePodsCgroup() {
        assertEquals(
                "/kubepods/besteffort/pod1/c1", f.generate(config()).linux().cgroupsPath());
    }
}

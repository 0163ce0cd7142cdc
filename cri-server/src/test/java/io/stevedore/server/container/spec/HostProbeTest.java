package io.stevedore.server.container.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class HostProbeTest {
    @Test
    void capEff_fromProcStatus_namesTheBits() {
        String status =
                "Name:\tjava\nCapInh:\t0000000000000000\nCapEff:\t0000000000003001\nCapBnd:\t000001ffffffffff\n";

        assertEquals(
                List.of("CAP_CHOWN", "CAP_NET_ADMIN", "CAP_NET_RAW"),
                CapabilitySets.fromMask(HostProbe.capEff(status)));
    }

    @Test
    void fromMask_fullMask_isEveryKnownCapability() {
        assertEquals(CapabilitySets.KNOWN, CapabilitySets.fromMask(0x000001ffffffffffL));
        assertEquals(41, CapabilitySets.KNOWN.size());
    }

    @Test
    void unifiedPath_fromProcCgroup_isTheV2Line() {
        assertEquals(
                "/system.slice/stevedore.service",
                HostProbe.unifiedPath("12:memory:/x\n0::/system.slice/stevedore.service\n"));
        assertEquals("/", HostProbe.unifiedPath("12:memory:/x\n"));
    }

    @Test
    void forThisHost_readsTheHost() {
        var o = ContainerSpecGenerator.Options.forThisHost();

        assertTrue(o.oomScoreAdjFloor() >= -1000 && o.oomScoreAdjFloor() <= 1000);
        assertTrue(CapabilitySets.KNOWN.containsAll(o.allCapabilities()));
    }
}

package io.stevedore.server.container.spec;

import static io.stevedore.server.container.spec.SpecFixture.config;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.cri.v1.Capability;
import io.stevedore.oci.spec.Linux;
import io.stevedore.oci.spec.Mount;
import io.stevedore.oci.spec.Process;
import io.stevedore.oci.spec.Resources;
import io.stevedore.oci.spec.Spec;
import io.stevedore.oci.spec.Specs;
import io.stevedore.server.error.CriException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContainerSecurityTest {
    private static final List<String> ALL = SpecFixture.OPTIONS.allCapabilities();

    private SpecFixture f;

    @BeforeEach
    void setUp(@TempDir Path dir) {
        f = new SpecFixture(dir);
    }

    private PodContext privilegedPod() {
        PodContext p = f.pod();
        return new PodContext(
                p.sandboxId(),
                SpecFixture.podConfig(true),
                p.netns(),
                p.ipcns(),
                p.utsns(),
                p.sharedPidNsPid(),
                p.hostsFile(),
                p.resolvConf(),
                p.hostnameFile(),
                p.shm(),
                p.cgroupParent());
    }

    private Spec privileged() {
        return f.generate(
                config(sc -> sc.setPrivileged(true)
                        .setCapabilities(Capability.newBuilder().addDropCapabilities("SYS_ADMIN"))),
                privilegedPod(),
                SpecFixture.image());
    }

    private static Capability.Builder caps() {
        return Capability.newBuilder();
    }

    private Process.Capabilities capsOf(Capability.Builder c) {
        return f.generate(config(sc -> sc.setCapabilities(c))).process().capabilities();
    }

    @Test
    void generate_privilegedInUnprivilegedPod_isInvalidArgument() {
        var e = assertThrows(
                CriException.InvalidArgument.class, () -> f.generate(config(sc -> sc.setPrivileged(true))));

        assertTrue(e.getMessage().contains("no privileged container allowed in sandbox \"sb1\""), e.getMessage());
    }

    @Test
    void generate_privileged_getsEveryCapabilityWeHoldDropsIgnored() {
        Process.Capabilities c = privileged().process().capabilities();

        assertEquals(new Process.Capabilities(ALL, ALL, List.of(), ALL, List.of()), c);
    }

    @Test
    void generate_privileged_nothingMaskedSysAndCgroupWritable() {
        Spec spec = privileged();

        assertEquals(List.of(), spec.linux().maskedPaths());
        assertEquals(List.of(), spec.linux().readonlyPaths());
        for (Mount m : spec.mounts()) {
            if (m.type().equals("sysfs") || m.type().equals("cgroup")) {
                assertTrue(m.options().contains("rw") && !m.options().contains("ro"), m.toString());
            }
        }
    }

    @Test
    void generate_privileged_allDevicesAllowedAndHostDevicesPresent() {
        Spec spec = privileged();

        assertEquals(
                List.of(new Resources.DeviceRule(true, null, null, null, "rwm")),
                spec.linux().resources().devices());
        Optional<Linux.Device> devNull = spec.linux().devices().stream()
                .filter(d -> d.path().equals("/dev/null"))
                .findFirst();
        assertTrue(devNull.isPresent());
        assertEquals("c", devNull.get().type());
        assertEquals(1, devNull.get().major());
        assertEquals(3, devNull.get().minor());
    }

    @Test
    void generate_unprivileged_defaultCapabilitiesAndDenyAllDevices() {
        Spec spec = f.generate(config());

        List<String> d = Specs.DEFAULT_CAPABILITIES;
        assertEquals(
                new Process.Capabilities(d, d, List.of(), d, List.of()),
                spec.process().capabilities());
        assertEquals(
                List.of(Resources.DeviceRule.denyAll()),
                spec.linux().resources().devices());
    }

    @Test
    void generate_addAndDrop_withOrWithoutPrefixAnyCase() {
        Process.Capabilities c = capsOf(caps().addAddCapabilities("NET_ADMIN")
                .addAddCapabilities("cap_sys_time")
                .addDropCapabilities("CHOWN")
                .addDropCapabilities("CAP_KILL"));

        List<String> expected = new ArrayList<>(Specs.DEFAULT_CAPABILITIES);
        expected.removeAll(List.of("CAP_CHOWN", "CAP_KILL"));
        expected.addAll(List.of("CAP_NET_ADMIN", "CAP_SYS_TIME"));
        assertEquals(expected, c.bounding());
        assertEquals(expected, c.effective());
        assertEquals(expected, c.permitted());
        assertEquals(List.of(), c.inheritable());
    }

    @Test
    void generate_addAllDropOne_isEverythingWeHoldButThat() {
        Process.Capabilities c = capsOf(caps().addAddCapabilities("ALL").addDropCapabilities("CHOWN"));

        assertEquals(List.of("CAP_NET_ADMIN", "CAP_SYS_ADMIN"), c.bounding());
        assertEquals(List.of("CAP_NET_ADMIN", "CAP_SYS_ADMIN"), c.permitted());
    }

    @Test
    void generate_dropAllAddOne_isOnlyThatOne() {
        Process.Capabilities c = capsOf(caps().addDropCapabilities("all").addAddCapabilities("NET_BIND_SERVICE"));

        assertEquals(
                new Process.Capabilities(
                        List.of("CAP_NET_BIND_SERVICE"),
                        List.of("CAP_NET_BIND_SERVICE"),
                        List.of(),
                        List.of("CAP_NET_BIND_SERVICE"),
                        List.of()),
                c);
    }

    @Test
    void generate_ambientCapabilities_areCleared() {
        Process.Capabilities c = capsOf(caps().addAddAmbientCapabilities("NET_ADMIN"));

        assertEquals(List.of(), c.ambient());
    }

    @Test
    void generate_noNewPrivs_followsTheSecurityContext() {
        assertTrue(f.generate(config(sc -> sc.setNoNewPrivs(true))).process().noNewPrivileges());
        assertFalse(f.generate(config()).process().noNewPrivileges());
    }

    @Test
    void generate_criMaskedAndReadonlyPaths_replaceTheDefaults() {
        Spec spec = f.generate(config(sc -> sc.addMaskedPaths("/proc/kcore").addReadonlyPaths("/proc/sys")));

        assertEquals(List.of("/proc/kcore"), spec.linux().maskedPaths());
        assertEquals(List.of("/proc/sys"), spec.linux().readonlyPaths());
    }

    @Test
    void generate_noCriMaskedPaths_keepsTheDefaults() {
        Spec spec = f.generate(config(sc -> sc.addReadonlyPaths("/proc/sys")));

        assertEquals(Specs.DEFAULT_MASKED_PATHS, spec.linux().maskedPaths());
        assertEquals(List.of("/proc/sys"), spec.linux().readonlyPaths());
    }

    @Test
    void generate_rlimits_areTheDefaults() {
        assertEquals(
                List.of(new Process.Rlimit("RLIMIT_NOFILE", 1024, 1024)),
                f.generate(config()).process().rlimits());
    }

    @Test
    void generate_noSeccompOrApparmor() {
        Spec spec = f.generate(config());

        assertEquals(null, spec.linux().seccomp());
        assertEquals(null, spec.process().apparmorProfile());
    }
}

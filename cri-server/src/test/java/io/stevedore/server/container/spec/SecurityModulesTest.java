package io.stevedore.server.container.spec;

import static io.stevedore.server.container.spec.SpecFixture.config;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.cri.v1.ContainerConfig;
import io.stevedore.cri.v1.SELinuxOption;
import io.stevedore.cri.v1.SecurityProfile;
import io.stevedore.cri.v1.SecurityProfile.ProfileType;
import io.stevedore.oci.spec.Spec;
import io.stevedore.server.error.CriException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecurityModulesTest {
    private static final ContainerSpecGenerator.Options WITH_APPARMOR =
            new ContainerSpecGenerator.Options(0, SpecFixture.OPTIONS.allCapabilities(), false, true, true, false);
    private static final ContainerSpecGenerator.Options WITH_SELINUX =
            new ContainerSpecGenerator.Options(0, SpecFixture.OPTIONS.allCapabilities(), false, true, false, true);

    private SpecFixture f;

    @BeforeEach
    void setUp(@TempDir Path dir) {
        f = new SpecFixture(dir);
    }

    private Spec generate(ContainerSpecGenerator.Options options, ContainerConfig.Builder config) {
        return new ContainerSpecGenerator(options)
                .generate("c1", config.build(), f.pod(), SpecFixture.image(), f.rootfs);
    }

    private static SecurityProfile profile(ProfileType type, String ref) {
        return SecurityProfile.newBuilder()
                .setProfileType(type)
                .setLocalhostRef(ref)
                .build();
    }

    @Test
    void apparmor_runtimeDefaultOrUnconfinedWithoutAppArmor_runsUnconfined() {
        for (var cfg : List.of(
                config(sc -> sc.setApparmor(profile(ProfileType.RuntimeDefault, ""))),
                config(sc -> sc.setApparmor(profile(ProfileType.Unconfined, ""))),
                config(sc -> sc.setApparmorProfile("runtime/default")),
                config(sc -> sc.setApparmorProfile("unconfined")),
                config())) {
            assertNull(f.generate(cfg).process().apparmorProfile());
        }
    }

    @Test
    void apparmor_localhostWithoutAppArmor_isFailedPreconditionNamingTheField() {
        var e = assertThrows(
                CriException.FailedPrecondition.class,
                () -> f.generate(config(sc -> sc.setApparmor(profile(ProfileType.Localhost, "k8s-nginx")))));
        assertEquals(
                "create container \"app\": AppArmor profile \"localhost/k8s-nginx\" (linux.security_context.apparmor)"
                        + " cannot be applied: AppArmor is not enabled on this host"
                        + " (/sys/module/apparmor/parameters/enabled)",
                e.getMessage());
    }

    @Test
    void apparmor_deprecatedLocalhostWithoutAppArmor_namesTheDeprecatedField() {
        var e = assertThrows(
                CriException.FailedPrecondition.class,
                () -> f.generate(config(sc -> sc.setApparmorProfile("localhost/k8s-nginx"))));
        assertTrue(e.getMessage().contains("(linux.security_context.apparmor_profile)"), e.getMessage());
    }

    @Test
    void apparmor_localhostWithAppArmor_isApplied() {
        Spec s = generate(WITH_APPARMOR, config(sc -> sc.setApparmor(profile(ProfileType.Localhost, "localhost/p1"))));
        assertEquals("p1", s.process().apparmorProfile());
        Spec legacy = generate(WITH_APPARMOR, config(sc -> sc.setApparmorProfile("localhost/p2")));
        assertEquals("p2", legacy.process().apparmorProfile());
    }

    @Test
    void apparmor_malformed_isInvalidArgument() {
        assertThrows(
                CriException.InvalidArgument.class,
                () -> generate(WITH_APPARMOR, config(sc -> sc.setApparmorProfile("docker-default"))));
        assertThrows(
                CriException.InvalidArgument.class,
                () -> generate(WITH_APPARMOR, config(sc -> sc.setApparmor(profile(ProfileType.Localhost, "")))));
        assertThrows(
                CriException.InvalidArgument.class,
                () -> generate(WITH_APPARMOR, config(sc -> sc.setApparmorProfile("localhost/a\nb"))));
    }

    @Test
    void selinux_withoutSelinux_isFailedPreconditionNamingTheField() {
        var e = assertThrows(
                CriException.FailedPrecondition.class,
                () -> f.generate(config(sc -> sc.setSelinuxOptions(
                        SELinuxOption.newBuilder().setType("spc_t").setLevel("s0:c1,c2")))));
        assertEquals(
                "create container \"app\": SELinux options \"::spc_t:s0:c1,c2\" (linux.security_context.selinux_options)"
                        + " cannot be applied: SELinux is not enabled on this host (/sys/fs/selinux)",
                e.getMessage());
    }

    @Test
    void selinux_withSelinux_isRefusedUntilLabelsAreApplied() {
        var e = assertThrows(
                CriException.FailedPrecondition.class,
                () -> generate(
                        WITH_SELINUX,
                        config(sc ->
                                sc.setSelinuxOptions(SELinuxOption.newBuilder().setLevel("s0")))));
        assertTrue(e.getMessage().contains("does not set SELinux labels"), e.getMessage());
    }

    @Test
    void selinux_emptyOptions_areNothingAsked() {
        Spec s = f.generate(config(sc -> sc.setSelinuxOptions(SELinuxOption.getDefaultInstance())));
        assertNull(s.process().selinuxLabel());
    }

    @Test
    void hostProbe_readsTheSysfsFiles(@TempDir Path dir) throws IOException {
        Path enabled = dir.resolve("enabled");
        assertFalse(HostProbe.apparmorEnabled(enabled), "no module");
        Files.writeString(enabled, "N\n");
        assertFalse(HostProbe.apparmorEnabled(enabled));
        Files.writeString(enabled, "Y\n");
        assertTrue(HostProbe.apparmorEnabled(enabled));
        assertFalse(HostProbe.selinuxEnabled(dir), "selinuxfs not mounted");
        Files.writeString(dir.resolve("enforce"), "1");
        assertTrue(HostProbe.selinuxEnabled(dir));
    }
}

package io.stevedore.server.container.spec;

import static io.stevedore.server.container.spec.SpecFixture.config;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.stevedore.cri.v1.NamespaceMode;
import io.stevedore.cri.v1.NamespaceOption;
import io.stevedore.cri.v1.UserNamespace;
import io.stevedore.oci.spec.Linux.Namespace;
import io.stevedore.oci.spec.Linux.NamespaceType;
import io.stevedore.oci.spec.Spec;
import io.stevedore.server.error.CriException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContainerNamespacesTest {
    private SpecFixture f;

    @BeforeEach
    void setUp(@TempDir Path dir) {
        f = new SpecFixture(dir);
    }

    private Spec withPid(NamespaceMode mode, PodContext pod) {
        return f.generate(
                config(sc -> sc.setNamespaceOptions(NamespaceOption.newBuilder().setPid(mode))),
                pod,
                SpecFixture.image());
    }

    private PodContext sharedPidPod() {
        PodContext p = f.pod();
        return new PodContext(
                p.sandboxId(),
                p.config(),
                p.netns(),
                p.ipcns(),
                p.utsns(),
                Optional.of(4242),
                p.hostsFile(),
                p.resolvConf(),
                p.hostnameFile(),
                p.shm(),
                p.cgroupParent());
    }

    @Test
    void generate_podNamespaces_areJoinedMountAndPidNew() {
        assertEquals(
                List.of(
                        new Namespace(NamespaceType.PID),
                        new Namespace(NamespaceType.IPC, "/run/ipcns/sb1"),
                        new Namespace(NamespaceType.UTS, "/run/utsns/sb1"),
                        new Namespace(NamespaceType.MOUNT),
                        new Namespace(NamespaceType.NETWORK, "/run/netns/sb1")),
                f.generate(config()).linux().namespaces());
    }

    @Test
    void generate_hostPod_sharesTheHostsNetworkIpcAndUts() {
        Spec spec = f.generate(config(), f.hostPod(), SpecFixture.image());

        assertEquals(
                List.of(new Namespace(NamespaceType.PID), new Namespace(NamespaceType.MOUNT)),
                spec.linux().namespaces());
    }

    @Test
    void generate_pidNode_sharesTheHostsPidNamespace() {
        Spec spec = withPid(NamespaceMode.NODE, f.pod());

        assertEquals(
                List.of(NamespaceType.IPC, NamespaceType.UTS, NamespaceType.MOUNT, NamespaceType.NETWORK),
                spec.linux().namespaces().stream().map(Namespace::type).toList());
    }

    @Test
    void generate_pidPodWithSharedNamespace_joinsTheInfraProcess() {
        Spec spec = withPid(NamespaceMode.POD, sharedPidPod());

        assertEquals(
                new Namespace(NamespaceType.PID, "/proc/4242/ns/pid"),
                spec.linux().namespaces().getFirst());
    }

    @Test
    void generate_pidPodWithoutSharedNamespace_isNew() {
        assertEquals(
                new Namespace(NamespaceType.PID),
                withPid(NamespaceMode.POD, f.pod()).linux().namespaces().getFirst());
    }

    @Test
    void generate_pidContainer_isNewEvenInASharedPod() {
        assertEquals(
                new Namespace(NamespaceType.PID),
                withPid(NamespaceMode.CONTAINER, sharedPidPod())
                        .linux()
                        .namespaces()
                        .getFirst());
    }

    @Test
    void generate_pidTargetUnresolved_isInvalidArgument() {
        assertThrows(CriException.InvalidArgument.class, () -> withPid(NamespaceMode.TARGET, f.pod()));
    }

    @Test
    void generate_pidTarget_joinsTheTargetsInitNamespace() {
        var spec = new ContainerSpecGenerator(SpecFixture.OPTIONS)
                .generate(
                        "c1",
                        config(sc -> sc.setNamespaceOptions(NamespaceOption.newBuilder()
                                        .setPid(NamespaceMode.TARGET)
                                        .setTargetId("t1")))
                                .build(),
                        sharedPidPod(),
                        SpecFixture.image(),
                        f.rootfs,
                        new HostInputs(java.util.OptionalInt.of(777), java.util.Map.of()));
        assertEquals(
                new Namespace(NamespaceType.PID, "/proc/777/ns/pid"),
                spec.linux().namespaces().stream()
                        .filter(n -> n.type() == NamespaceType.PID)
                        .findFirst()
                        .orElseThrow());
    }

    @Test
    void generate_podUserNamespace_isUnimplemented() {
        var ns = NamespaceOption.newBuilder()
                .setUsernsOptions(UserNamespace.newBuilder().setMode(NamespaceMode.POD));

        assertThrows(CriException.Unimplemented.class, () -> f.generate(config(sc -> sc.setNamespaceOptions(ns))));
    }

    @Test
    void generate_cgroupNamespaceOption_onlyForUnprivileged() {
        var options = new ContainerSpecGenerator.Options(0, List.of(), true, true);
        var generator = new ContainerSpecGenerator(options);
        PodContext p = f.pod();
        PodContext privilegedPod = new PodContext(
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

        Spec plain = generator.generate("c1", config().build(), p, SpecFixture.image(), f.rootfs);
        Spec privileged = generator.generate(
                "c1", config(sc -> sc.setPrivileged(true)).build(), privilegedPod, SpecFixture.image(), f.rootfs);

        assertEquals(
                new Namespace(NamespaceType.CGROUP), plain.linux().namespaces().getLast());
        assertEquals(
                0,
                privileged.linux().namespaces().stream()
                        .filter(n -> n.type() == NamespaceType.CGROUP)
                        .count());
    }
}

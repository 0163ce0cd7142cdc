package io.stevedore.server.container.spec;

import static io.stevedore.server.container.spec.SpecFixture.config;
import static io.stevedore.server.container.spec.SpecFixture.image;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.cri.v1.IDMapping;
import io.stevedore.cri.v1.ImageSpec;
import io.stevedore.cri.v1.MountPropagation;
import io.stevedore.oci.spec.Linux;
import io.stevedore.oci.spec.Mount;
import io.stevedore.oci.spec.Spec;
import io.stevedore.server.error.CriException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContainerMountsTest {
    private SpecFixture f;
    private Path data;

    @BeforeEach
    void setUp(@TempDir Path dir) throws IOException {
        f = new SpecFixture(dir.toRealPath());
        data = Files.createDirectories(f.dir.resolve("data"));
    }

    static io.stevedore.cri.v1.Mount.Builder criMount(String containerPath, Path hostPath) {
        return io.stevedore.cri.v1.Mount.newBuilder()
                .setContainerPath(containerPath)
                .setHostPath(hostPath.toString());
    }

    static Mount mount(Spec spec, String destination) {
        return spec.mounts().stream()
                .filter(m -> m.destination().equals(destination))
                .findFirst()
                .orElse(null);
    }

    static List<String> destinations(Spec spec) {
        return spec.mounts().stream().map(Mount::destination).toList();
    }

    @Test
    void generate_criMount_isAnRbindOfTheResolvedHostPath() throws IOException {
        Path link = Files.createSymbolicLink(f.dir.resolve("link"), data);

        Spec spec = f.generate(config().addMounts(criMount("/data", link)));

        assertEquals(
                new Mount("/data", "bind", data.toString(), List.of("rbind", "rprivate", "rw")), mount(spec, "/data"));
        assertNull(spec.linux().rootfsPropagation());
    }

    @Test
    void generate_readonlyCriMount_isRo() {
        Spec spec = f.generate(config().addMounts(criMount("/data", data).setReadonly(true)));

        assertEquals(List.of("rbind", "rprivate", "ro"), mount(spec, "/data").options());
    }

    @Test
    void generate_missingHostPath_isInvalidArgumentNamingIt() {
        Path missing = f.dir.resolve("nope");

        var e = assertThrows(
                CriException.InvalidArgument.class, () -> f.generate(config().addMounts(criMount("/data", missing))));

        assertEquals("create container \"app\": mount host path \"" + missing + "\" does not exist", e.getMessage());
    }

    @Test
    void generate_hostToContainer_isRslaveAndMakesTheRootfsRslave() {
        Spec spec = f.generate(config().addMounts(
                        criMount("/data", data).setPropagation(MountPropagation.PROPAGATION_HOST_TO_CONTAINER)));

        assertEquals(List.of("rbind", "rslave", "rw"), mount(spec, "/data").options());
        assertEquals("rslave", spec.linux().rootfsPropagation());
    }

    @Test
    void generate_bidirectional_isRsharedAndMakesTheRootfsRshared() {
        Spec spec = f.generate(
                config().addMounts(criMount("/data", data).setPropagation(MountPropagation.PROPAGATION_BIDIRECTIONAL)));

        assertEquals(List.of("rbind", "rshared", "rw"), mount(spec, "/data").options());
        assertEquals("rshared", spec.linux().rootfsPropagation());
    }

    @Test
    void generate_sharedThenSlave_rootfsStaysRshared() {
        Spec spec = f.generate(config().addMounts(
                        criMount("/a", data).setPropagation(MountPropagation.PROPAGATION_BIDIRECTIONAL))
                .addMounts(criMount("/b", data).setPropagation(MountPropagation.PROPAGATION_HOST_TO_CONTAINER)));

        assertEquals("rshared", spec.linux().rootfsPropagation());
    }

    @Test
    void generate_mounts_parentsBeforeChildrenAfterTheDefaults() {
        Spec spec = f.generate(config().addMounts(criMount("/a/b/c", data))
                .addMounts(criMount("/a", data))
                .addMounts(criMount("/a/b/", data)));

        assertEquals(
                List.of(
                        "/proc",
                        "/dev",
                        "/dev/pts",
                        "/dev/mqueue",
                        "/sys",
                        "/sys/fs/cgroup",
                        "/a",
                        "/a/b/",
                        "/etc/hostname",
                        "/etc/hosts",
                        "/etc/resolv.conf",
                        "/dev/shm",
                        "/a/b/c"),
                destinations(spec));
    }

    @Test
    void generate_criMountOnAPodFile_replacesThePodsBind() throws IOException {
        Path myHosts = Files.writeString(f.dir.resolve("my-hosts"), "");

        Spec spec = f.generate(config().addMounts(criMount("/etc/hosts", myHosts)));

        assertEquals(myHosts.toString(), mount(spec, "/etc/hosts").source());
        assertEquals(1, destinations(spec).stream().filter("/etc/hosts"::equals).count());
    }

    @Test
    void generate_criMountOnADefault_replacesTheDefault() {
        Spec spec = f.generate(config().addMounts(criMount("/sys", data)));

        assertEquals("bind", mount(spec, "/sys").type());
        assertEquals(1, destinations(spec).stream().filter("/sys"::equals).count());
    }

    @Test
    void generate_criMountOnDev_dropsTheDefaultsBelowDev() {
        Spec spec = f.generate(config().addMounts(criMount("/dev", data)));

        assertEquals(
                List.of(
                        "/proc",
                        "/sys",
                        "/sys/fs/cgroup",
                        "/dev",
                        "/etc/hostname",
                        "/etc/hosts",
                        "/etc/resolv.conf",
                        "/dev/shm"),
                destinations(spec));
    }

    @Test
    void generate_podShm_isANoexecBindReplacingTheDefaultTmpfs() {
        Spec spec = f.generate(config());

        assertEquals(
                new Mount(
                        "/dev/shm",
                        "bind",
                        f.shm.toString(),
                        List.of("rbind", "rprivate", "rw", "nosuid", "nodev", "noexec")),
                mount(spec, "/dev/shm"));
        assertEquals(1, destinations(spec).stream().filter("/dev/shm"::equals).count());
    }

    @Test
    void generate_hostIpcPod_bindsTheHostsDevShm() throws IOException {
        Spec spec = f.generate(config(), f.hostPod(), SpecFixture.image());

        assertEquals(
                Path.of("/dev/shm").toRealPath().toString(),
                mount(spec, "/dev/shm").source());
    }

    @Test
    void generate_readonlyRootfs_podFilesReadOnlyButShmWritable() {
        Spec spec = f.generate(config(sc -> sc.setReadonlyRootfs(true)));

        assertEquals(
                List.of("rbind", "rprivate", "ro"), mount(spec, "/etc/hosts").options());
        assertEquals(
                List.of("rbind", "rprivate", "ro"),
                mount(spec, "/etc/resolv.conf").options());
        assertEquals(
                List.of("rbind", "rprivate", "ro"), mount(spec, "/etc/hostname").options());
        assertEquals("rw", mount(spec, "/dev/shm").options().get(2));
    }

    @Test
    void generate_missingPodFile_isSkipped() throws IOException {
        Files.delete(f.hostname);

        Spec spec = f.generate(config());

        assertNull(mount(spec, "/etc/hostname"));
    }

    @Test
    void generate_recursiveReadonly_isRro() {
        Spec spec = f.generate(
                config().addMounts(criMount("/data", data).setReadonly(true).setRecursiveReadOnly(true)));

        assertEquals(List.of("rbind", "rprivate", "rro"), mount(spec, "/data").options());
    }

    @Test
    void generate_recursiveReadonlyButWritable_isInvalidArgument() {
        assertThrows(
                CriException.InvalidArgument.class,
                () -> f.generate(config().addMounts(criMount("/data", data).setRecursiveReadOnly(true))));
    }

    @Test
    void generate_mountWithoutHostPathOrRelativeTarget_isInvalidArgument() {
        assertThrows(
                CriException.InvalidArgument.class,
                () -> f.generate(config().addMounts(
                                io.stevedore.cri.v1.Mount.newBuilder().setContainerPath("/data"))));
        assertThrows(CriException.InvalidArgument.class, () -> f.generate(config().addMounts(criMount("data", data))));
    }

    @Test
    void generate_imageVolumeNotMounted_isInvalidArgument() {
        var m = io.stevedore.cri.v1.Mount.newBuilder()
                .setContainerPath("/data")
                .setImage(ImageSpec.newBuilder().setImage("busybox"));

        assertThrows(CriException.InvalidArgument.class, () -> f.generate(config().addMounts(m)));
    }

    @Test
    void generate_imageVolume_isAReadOnlyBindOfWhereItIsMounted() throws IOException {
        Path volume = java.nio.file.Files.createDirectories(f.dir.resolve("volumes/1"));
        var config = config().addMounts(criMount("/host", f.dir))
                .addMounts(io.stevedore.cri.v1.Mount.newBuilder()
                        .setContainerPath("/data")
                        .setHostPath("/ignored")
                        .setImage(ImageSpec.newBuilder().setImage("busybox")));

        var spec = new ContainerSpecGenerator(SpecFixture.OPTIONS)
                .generate(
                        "c1",
                        config.build(),
                        f.pod(),
                        SpecFixture.image(),
                        f.rootfs,
                        new HostInputs(java.util.OptionalInt.empty(), java.util.Map.of(1, volume)));

        var m = spec.mounts().stream()
                .filter(x -> x.destination().equals("/data"))
                .findFirst()
                .orElseThrow();
        assertEquals(volume.toRealPath().toString(), m.source());
        assertEquals(List.of("rbind", "rprivate", "ro"), m.options());
    }

    @Test
    void generate_idMappings_arePassedThrough() {
        var m = criMount("/data", data)
                .addUidMappings(IDMapping.newBuilder()
                        .setContainerId(0)
                        .setHostId(100000)
                        .setLength(65536))
                .addGidMappings(IDMapping.newBuilder()
                        .setContainerId(0)
                        .setHostId(200000)
                        .setLength(65536));

        Mount out = mount(f.generate(config().addMounts(m)), "/data");

        assertEquals(List.of(new Linux.IdMapping(0, 100000, 65536)), out.uidMappings());
        assertEquals(List.of(new Linux.IdMapping(0, 200000, 65536)), out.gidMappings());
    }

    @Test
    void generate_defaultMounts_sysAndCgroupReadOnly() {
        Spec spec = f.generate(config(), f.pod(), image("", List.of(), List.of("/x"), List.of(), ""));

        assertTrue(mount(spec, "/sys").options().contains("ro"));
        assertTrue(mount(spec, "/sys/fs/cgroup").options().contains("ro"));
    }
}

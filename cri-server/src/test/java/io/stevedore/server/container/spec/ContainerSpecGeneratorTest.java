package io.stevedore.server.container.spec;

import static io.stevedore.server.container.spec.SpecFixture.config;
import static io.stevedore.server.container.spec.SpecFixture.image;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.stevedore.cri.v1.KeyValue;
import io.stevedore.oci.spec.Process;
import io.stevedore.oci.spec.Spec;
import io.stevedore.oci.spec.SpecJson;
import io.stevedore.server.error.CriException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class ContainerSpecGeneratorTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A plain container in a pod with its own namespaces; ${dir} is the fixture's directory. */
    private static final String PLAIN = """
      {
        "ociVersion": "1.1.0",
        "process": {
          "user": {"uid": 0, "gid": 0, "additionalGids": [0, 10]},
          "args": ["/bin/app", "serve"],
          "env": ["PATH=/usr/bin:/bin", "HOSTNAME=web-0", "LANG=C"],
          "cwd": "/",
          "capabilities": {
            "bounding": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
              "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
              "CAP_KILL", "CAP_AUDIT_WRITE"],
            "effective": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
              "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
              "CAP_KILL", "CAP_AUDIT_WRITE"],
            "permitted": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
              "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
              "CAP_KILL", "CAP_AUDIT_WRITE"]
          },
          "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]
        },
        "root": {"path": "${dir}/rootfs"},
        "mounts": [
          {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
          {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
           "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
          {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
           "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
          {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
           "options": ["nosuid", "noexec", "nodev"]},
          {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
          {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
           "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
          {"destination": "/etc/hostname", "type": "bind", "source": "${dir}/pod/hostname",
           "options": ["rbind", "rprivate", "rw"]},
          {"destination": "/etc/hosts", "type": "bind", "source": "${dir}/pod/hosts",
           "options": ["rbind", "rprivate", "rw"]},
          {"destination": "/etc/resolv.conf", "type": "bind", "source": "${dir}/pod/resolv.conf",
           "options": ["rbind", "rprivate", "rw"]},
          {"destination": "/dev/shm", "type": "bind", "source": "${dir}/pod/shm",
           "options": ["rbind", "rprivate", "rw", "nosuid", "nodev", "noexec"]}
        ],
        "annotations": {
          "io.kubernetes.cri.container-name": "app",
          "io.kubernetes.cri.container-type": "container",
          "io.kubernetes.cri.image-name": "app:1",
          "io.kubernetes.cri.sandbox-id": "sb1",
          "io.kubernetes.cri.sandbox-name": "web-0",
          "io.kubernetes.cri.sandbox-namespace": "shop",
          "io.kubernetes.cri.sandbox-uid": "uid-1",
          "team": "blue"
        },
        "linux": {
          "resources": {"devices": [{"allow": false, "access": "rwm"}]},
          "cgroupsPath": "/kubepods/besteffort/pod1/c1",
          "namespaces": [{"type": "pid"}, {"type": "ipc", "path": "/run/ipcns/sb1"},
            {"type": "uts", "path": "/run/utsns/sb1"}, {"type": "mount"},
            {"type": "network", "path": "/run/netns/sb1"}],
          "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
            "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
            "/sys/devices/virtual/powercap", "/proc/scsi"],
          "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        }
      }
      """;

    private SpecFixture f;

    @BeforeEach
    void setUp(@TempDir Path dir) throws IOException {
        f = new SpecFixture(dir.toRealPath());
    }

    @Test
    void generate_plainContainer_isContainerdsSpec() throws IOException {
        Spec spec = f.generate(config().putAnnotations("team", "blue"));

        JsonNode expected = JSON.readTree(PLAIN.replace("${dir}", f.dir.toString()));
        assertEquals(expected, JSON.readTree(SpecJson.toJson(spec)));
    }

    record ArgsCase(
            String desc,
            List<String> command,
            List<String> args,
            List<String> entrypoint,
            List<String> cmd,
            List<String> expected) {
        @Override
        public String toString() {
            return desc;
        }
    }

    static Stream<ArgsCase> argsCases() {
        List<String> ep = List.of("/entry");
        List<String> cmd = List.of("default");
        return Stream.of(
                new ArgsCase(
                        "command and args replace the image's",
                        List.of("/bin/sh"),
                        List.of("-c", "x"),
                        ep,
                        cmd,
                        List.of("/bin/sh", "-c", "x")),
                new ArgsCase(
                        "command alone drops the image's cmd",
                        List.of("/bin/sh"),
                        List.of(),
                        ep,
                        cmd,
                        List.of("/bin/sh")),
                new ArgsCase(
                        "args alone follow the image's entrypoint",
                        List.of(),
                        List.of("a1"),
                        ep,
                        cmd,
                        List.of("/entry", "a1")),
                new ArgsCase(
                        "neither: entrypoint then cmd", List.of(), List.of(), ep, cmd, List.of("/entry", "default")),
                new ArgsCase(
                        "ENTRYPOINT [\"\"] is no entrypoint",
                        List.of(),
                        List.of(),
                        List.of(""),
                        cmd,
                        List.of("default")),
                new ArgsCase(
                        "args without an image entrypoint",
                        List.of(),
                        List.of("/bin/true"),
                        List.of(),
                        cmd,
                        List.of("/bin/true")));
    }

    @ParameterizedTest
    @MethodSource("argsCases")
    void generate_commandArgsAndImage_processArgs(ArgsCase c) {
        var config = config().addAllCommand(c.command()).addAllArgs(c.args());

        Spec spec = f.generate(config, f.pod(), image("", List.of(), c.entrypoint(), c.cmd(), ""));

        assertEquals(c.expected(), spec.process().args());
    }

    @Test
    void generate_noCommandAnywhere_isInvalidArgument() {
        var e = assertThrows(
                CriException.InvalidArgument.class,
                () -> f.generate(config(), f.pod(), image("", List.of(), List.of(), List.of(), "")));

        assertEquals("create container \"app\": no command specified", e.getMessage());
    }

    @Test
    void generate_criEnv_overridesImageEnvByKeyInPlace() {
        var config = config().addEnvs(env("LANG", "de_DE")).addEnvs(env("EXTRA", "a=b"));

        Spec spec = f.generate(config);

        assertEquals(
                List.of("PATH=/usr/bin:/bin", "HOSTNAME=web-0", "LANG=de_DE", "EXTRA=a=b"),
                spec.process().env());
    }

    @Test
    void generate_imageWithoutPath_keepsTheDefaultPath() {
        Spec spec = f.generate(config(), f.pod(), image("", List.of("A=1"), List.of("/x"), List.of(), ""));

        assertEquals(
                List.of("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=web-0", "A=1"),
                spec.process().env());
    }

    @Test
    void generate_criHostnameEnv_overridesThePodHostname() {
        Spec spec = f.generate(config().addEnvs(env("HOSTNAME", "mine")));

        assertTrue(spec.process().env().contains("HOSTNAME=mine"));
        assertFalse(spec.process().env().contains("HOSTNAME=web-0"));
    }

    @Test
    void generate_tty_setsTerminalAndTerm() {
        Spec spec = f.generate(config().setTty(true).setStdin(true));

        assertTrue(spec.process().terminal());
        assertEquals("TERM=xterm", spec.process().env().get(1));
    }

    @Test
    void generate_noTty_noTerminal() {
        Spec spec = f.generate(config().setStdin(true));

        assertFalse(spec.process().terminal());
        assertTrue(spec.process().env().stream().noneMatch(e -> e.startsWith("TERM=")));
    }

    @ParameterizedTest
    @CsvSource(value = {"/work, /img, /work", "'', /img, /img", "'', '', /"})
    void generate_workingDir_criThenImageThenRoot(String cri, String img, String expected) {
        Spec spec =
                f.generate(config().setWorkingDir(cri), f.pod(), image("", List.of(), List.of("/x"), List.of(), img));

        assertEquals(expected, spec.process().cwd());
    }

    @Test
    void generate_rootfs_isTheAbsolutePathAndReadonlyFollowsTheSecurityContext() {
        Spec rw = f.generate(config());
        Spec ro = f.generate(config(sc -> sc.setReadonlyRootfs(true)));

        assertEquals(f.rootfs.toString(), rw.root().path());
        assertFalse(rw.root().readonly());
        assertTrue(ro.root().readonly());
    }

    @Test
    void generate_relativeRootfs_isRefused() {
        var generator = new ContainerSpecGenerator(SpecFixture.OPTIONS);

        assertThrows(
                IllegalArgumentException.class,
                () -> generator.generate("c1", config().build(), f.pod(), image(), Path.of("rootfs")));
    }

    @ParameterizedTest
    @CsvSource(
            value = {
                "/kubepods/pod1, /kubepods/pod1/c1",
                "/kubepods/pod1/, /kubepods/pod1/c1",
                "'', /c1",
                "kubepods-besteffort-pod1.slice, kubepods-besteffort-pod1.slice:stevedore:c1"
            })
    void cgroupsPath_parentAndId_joinedWithoutDoubleSlash(String parent, String expected) {
        assertEquals(expected, ContainerSpecGenerator.cgroupsPath(parent, "c1"));
    }

    @Test
    void generate_imageName_fallsBackToTheImageRef() {
        var config =
                config().setImage(io.stevedore.cri.v1.ImageSpec.newBuilder().setImage("sha256:abc"));

        Spec spec = f.generate(config);

        assertEquals("sha256:abc", spec.annotations().get(ContainerSpecGenerator.IMAGE_NAME));
    }

    @Test
    void generate_criAnnotationNamedLikeOurs_isOverridden() {
        Spec spec = f.generate(config().putAnnotations(ContainerSpecGenerator.CONTAINER_TYPE, "sandbox"));

        assertEquals("container", spec.annotations().get(ContainerSpecGenerator.CONTAINER_TYPE));
    }

    @Test
    void generate_neverSetsAHostname() {
        assertNull(f.generate(config()).hostname());
    }

    @Test
    void execProcess_keepsTheContainersProcessWithNewArgs() {
        Spec spec = f.generate(config(sc -> sc.setRunAsUser(
                                io.stevedore.cri.v1.Int64Value.newBuilder().setValue(1000))
                        .setNoNewPrivs(true))
                .setWorkingDir("/work")
                .addEnvs(env("A", "1")));
        var generator = new ContainerSpecGenerator(SpecFixture.OPTIONS);

        Process exec = generator.execProcess(spec, List.of("/bin/sh", "-c", "id"), false);

        assertEquals(spec.process().withArgs(List.of("/bin/sh", "-c", "id")), exec);
        assertEquals(1000, exec.user().uid());
        assertTrue(exec.noNewPrivileges());
    }

    @Test
    void execProcess_tty_setsTerminalAndTermAndDropsTheConsoleSize() {
        Spec spec = f.generate(config());
        spec = spec.withProcess(spec.process().withConsoleSize(new Process.ConsoleSize(24, 80)));

        Process exec = new ContainerSpecGenerator(SpecFixture.OPTIONS).execProcess(spec, List.of("sh"), true);

        assertTrue(exec.terminal());
        assertNull(exec.consoleSize());
        assertEquals("TERM=xterm", exec.env().getLast());
        assertEquals(spec.process().rlimits(), exec.rlimits());
        assertEquals(spec.process().capabilities(), exec.capabilities());
    }

    @Test
    void execProcess_emptyCommand_isInvalidArgument() {
        Spec spec = f.generate(config());

        assertThrows(
                CriException.InvalidArgument.class,
                () -> new ContainerSpecGenerator(SpecFixture.OPTIONS).execProcess(spec, List.of(), false));
    }

    static KeyValue env(String key, String value) {
        return KeyValue.newBuilder()
                .setKey(key)
                .setValue(ByteString.copyFromUtf8(value))
                .build();
    }
}

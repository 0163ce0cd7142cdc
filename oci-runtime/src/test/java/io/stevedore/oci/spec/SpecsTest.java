package io.stevedore.oci.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.stevedore.oci.spec.Linux.Namespace;
import io.stevedore.oci.spec.Linux.NamespaceType;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class SpecsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** containerd's populateDefaultUnixSpec as the CRI plugin uses it (no /run, plus /sys/fs/cgroup), nnp false. */
    private static final String CONTAINERD_DEFAULTS = """
      {
        "ociVersion": "1.1.0",
        "process": {
          "user": {"uid": 0, "gid": 0},
          "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
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
        "root": {"path": "rootfs"},
        "mounts": [
          {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
          {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
           "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
          {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
           "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
          {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
           "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
          {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
          {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
          {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
           "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
        ],
        "linux": {
          "resources": {"devices": [{"allow": false, "access": "rwm"}]},
          "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "network"}],
          "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
            "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
            "/sys/devices/virtual/powercap", "/proc/scsi"],
          "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        }
      }
      """;

    @Test
    void defaults_matchContainerdsDefaultLinuxSpec() throws IOException {
        assertEquals(JSON.readTree(CONTAINERD_DEFAULTS), JSON.readTree(SpecJson.toJson(Specs.defaults())));
    }

    @Test
    void defaults_noNewPrivilegesFalseAndNoCgroupsPath() {
        Spec spec = Specs.defaults();

        assertFalse(spec.process().noNewPrivileges());
        assertEquals(null, spec.linux().cgroupsPath());
    }

    record Case(String desc, SpecOpt opt, Spec expected) {
        @Override
        public String toString() {
            return desc;
        }
    }

    static Stream<Case> opts() {
        Spec d = Specs.defaults();
        return Stream.of(
                new Case(
                        "args",
                        Specs.withProcessArgs("/bin/sh", "-c", "x"),
                        d.withProcess(d.process().withArgs(List.of("/bin/sh", "-c", "x")))),
                new Case(
                        "cwd", Specs.withCwd("/work"), d.withProcess(d.process().withCwd("/work"))),
                new Case(
                        "user",
                        Specs.withUser(1000, 2000),
                        d.withProcess(d.process().withUser(new Process.User(1000, 2000)))),
                new Case(
                        "terminal",
                        Specs.withTerminal(true),
                        d.withProcess(d.process().withTerminal(true))),
                new Case("hostname", Specs.withHostname("h"), d.withHostname("h")),
                new Case(
                        "cgroups path",
                        Specs.withCgroupsPath("/a/b"),
                        d.withLinux(d.linux().withCgroupsPath("/a/b"))),
                new Case(
                        "resources",
                        Specs.withResources(Resources.EMPTY.withPids(new Resources.Pids(5L))),
                        d.withLinux(d.linux().withResources(Resources.EMPTY.withPids(new Resources.Pids(5L))))),
                new Case("readonly rootfs", Specs.withReadonlyRootfs(true), d.withRoot(new Root("rootfs", true))),
                new Case(
                        "env: replace by key, append, remove bare key",
                        Specs.withEnv(List.of("B=2", "PATH=/bin", "A")),
                        d.withProcess(d.process().withEnv(List.of("PATH=/bin", "B=2")))),
                new Case(
                        "namespace: join replaces in place",
                        Specs.withNamespace(NamespaceType.NETWORK, "/run/netns/p"),
                        d.withLinux(d.linux()
                                .withNamespaces(List.of(
                                        new Namespace(NamespaceType.PID),
                                        new Namespace(NamespaceType.IPC),
                                        new Namespace(NamespaceType.UTS),
                                        new Namespace(NamespaceType.MOUNT),
                                        new Namespace(NamespaceType.NETWORK, "/run/netns/p"))))),
                new Case(
                        "namespace: new type is appended",
                        Specs.withNamespace(NamespaceType.USER, null),
                        d.withLinux(d.linux()
                                .withNamespaces(Stream.concat(
                                                d.linux().namespaces().stream(),
                                                Stream.of(new Namespace(NamespaceType.USER)))
                                        .toList()))),
                new Case(
                        "namespace: removed",
                        Specs.withoutNamespace(NamespaceType.NETWORK),
                        d.withLinux(
                                d.linux().withNamespaces(d.linux().namespaces().subList(0, 4)))),
                new Case(
                        "annotations: merged",
                        Specs.withAnnotations(Map.of("a", "1")).then(Specs.withAnnotations(Map.of("a", "2", "b", "3"))),
                        d.withAnnotations(Map.of("a", "2", "b", "3"))));
    }

    @ParameterizedTest
    @MethodSource("opts")
    void opt_onDefaults_changesOnlyItsField(Case c) {
        assertEquals(c.expected(), c.opt().apply(Specs.defaults()));
    }

    @Test
    void withMounts_sameDestination_replacesTheDefaultAndAppends() {
        Mount shm = Mount.bind("/run/pod/shm", "/dev/shm", List.of("rbind", "ro"));
        Mount data = Mount.bind("/data", "/data", List.of("rbind"));

        Spec spec = Specs.apply(Specs.defaults(), Specs.withMounts(List.of(shm, data)));

        List<String> destinations =
                spec.mounts().stream().map(Mount::destination).toList();
        assertEquals(
                List.of("/proc", "/dev", "/dev/pts", "/dev/mqueue", "/sys", "/sys/fs/cgroup", "/dev/shm", "/data"),
                destinations);
        assertTrue(spec.mounts().contains(shm));
    }

    @Test
    void opts_onSpecWithoutProcessOrLinux_createThem() {
        Spec empty = new Spec(Spec.VERSION, null, null, null, null, null, null, null);

        Spec spec = Specs.apply(
                empty, Specs.withEnv(List.of("A=1")), Specs.withCgroupsPath("/x"), Specs.withReadonlyRootfs(true));

        assertEquals(List.of("A=1"), spec.process().env());
        assertEquals("/", spec.process().cwd());
        assertEquals("/x", spec.linux().cgroupsPath());
        assertEquals(new Root("rootfs", true), spec.root());
    }

    @Test
    void all_appliesInOrder() {
        Spec spec =
                SpecOpt.all(Specs.withHostname("a"), Specs.withHostname("b")).apply(Specs.defaults());

        assertEquals("b", spec.hostname());
    }

    @Test
    void apply_leavesTheBaseUnchanged() {
        Spec base = Specs.defaults();

        Specs.apply(base, Specs.withProcessArgs("/x"), Specs.withHostname("h"));

        assertEquals(Specs.defaults(), base);
    }

    @Test
    void withers_changeOnlyTheirField() throws IOException {
        Spec d = Specs.defaults();
        Linux linux = d.linux()
                .withRootfsPropagation("rslave")
                .withResources(d.linux()
                        .resources()
                        .withHugepageLimits(List.of(new Resources.HugepageLimit("2MB", 4096)))
                        .withUnified(Map.of("memory.high", "1000")));
        Process process =
                d.process().withConsoleSize(new Process.ConsoleSize(24, 80)).withRlimits(List.of());
        Mount sys = d.mounts().get(5).withOptions(List.of("rw"));

        var json = JSON.readTree(
                SpecJson.toJson(d.withLinux(linux).withProcess(process).withMounts(List.of(sys))));

        assertEquals("rslave", json.at("/linux/rootfsPropagation").asText());
        assertEquals(
                "2MB", json.at("/linux/resources/hugepageLimits/0/pageSize").asText());
        assertEquals("1000", json.at("/linux/resources/unified/memory.high").asText());
        assertEquals(80, json.at("/process/consoleSize/width").asInt());
        assertTrue(json.at("/process/rlimits").isMissingNode());
        assertEquals(JSON.readTree("""
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["rw"]}"""), json.at("/mounts/0"));
        assertEquals(d.linux().namespaces(), linux.namespaces());
    }
}

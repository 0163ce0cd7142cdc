package io.stevedore.oci.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stevedore.oci.fs.AtomicFiles;
import io.stevedore.oci.spec.Linux.Namespace;
import io.stevedore.oci.spec.Linux.NamespaceType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SpecJsonTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** Every part of the model set once, as a runtime would see it. */
    static Spec representative() throws IOException {
        var process = new Process(
                true,
                new Process.ConsoleSize(24, 80),
                new Process.User(1000, 1000, 18, List.of(10L, 20L)),
                List.of("/bin/sh", "-c", "true"),
                List.of("PATH=/bin", "A=b"),
                "/work",
                new Process.Capabilities(
                        List.of("CAP_KILL"), List.of("CAP_KILL"), List.of(), List.of("CAP_KILL"), List.of()),
                List.of(new Process.Rlimit("RLIMIT_NOFILE", 1024, 4096), new Process.Rlimit("RLIMIT_CORE", -1, -1)),
                true,
                "runtime/default",
                0,
                "system_u:system_r:container_t:s0");
        var resources = new Resources(
                List.of(Resources.DeviceRule.denyAll(), new Resources.DeviceRule(true, "c", 1L, 3L, "rwm")),
                new Resources.Memory(268435456L, 134217728L, 268435456L, null, null, 0L, false),
                new Resources.Cpu(1024L, 50000L, null, 100000L, null, null, "0-1", "0", null),
                new Resources.Pids(100L),
                List.of(new Resources.HugepageLimit("2MB", 0)),
                Map.of("memory.high", "max"));
        var linux = new Linux(
                List.of(new Linux.IdMapping(0, 100000, 65536)),
                List.of(new Linux.IdMapping(0, 100000, 65536)),
                Map.of("net.ipv4.ip_forward", "1"),
                resources,
                "/stevedore/abc",
                List.of(new Namespace(NamespaceType.PID), new Namespace(NamespaceType.NETWORK, "/run/netns/x")),
                List.of(new Linux.Device("/dev/fuse", "c", 10, 229, 438, 0L, 0L)),
                JSON.readTree(
                        "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"}]}"),
                "rprivate",
                List.of("/proc/kcore"),
                List.of("/proc/sys"),
                "system_u:object_r:container_file_t:s0");
        var hooks = new Hooks(
                List.of(),
                List.of(new Hooks.Hook("/bin/hook", List.of("hook", "create"), List.of(), 5)),
                List.of(),
                List.of(),
                List.of(),
                List.of());
        return new Spec(
                "1.1.0",
                process,
                new Root("rootfs", true),
                "box",
                List.of(
                        new Mount("/proc", "proc", "proc", List.of("nosuid")),
                        Mount.bind("/src", "/dst", List.of("rbind", "ro"))),
                hooks,
                Map.of("b", "2", "a", "1"),
                linux);
    }

    private static final String EXPECTED = """
      {
        "ociVersion": "1.1.0",
        "process": {
          "terminal": true,
          "consoleSize": {"height": 24, "width": 80},
          "user": {"uid": 1000, "gid": 1000, "umask": 18, "additionalGids": [10, 20]},
          "args": ["/bin/sh", "-c", "true"],
          "env": ["PATH=/bin", "A=b"],
          "cwd": "/work",
          "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]},
          "rlimits": [
            {"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 4096},
            {"type": "RLIMIT_CORE", "hard": 18446744073709551615, "soft": 18446744073709551615}
          ],
          "noNewPrivileges": true,
          "apparmorProfile": "runtime/default",
          "oomScoreAdj": 0,
          "selinuxLabel": "system_u:system_r:container_t:s0"
        },
        "root": {"path": "rootfs", "readonly": true},
        "hostname": "box",
        "mounts": [
          {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid"]},
          {"destination": "/dst", "type": "bind", "source": "/src", "options": ["rbind", "ro"]}
        ],
        "hooks": {"createRuntime": [{"path": "/bin/hook", "args": ["hook", "create"], "timeout": 5}]},
        "annotations": {"a": "1", "b": "2"},
        "linux": {
          "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
          "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
          "sysctl": {"net.ipv4.ip_forward": "1"},
          "resources": {
            "devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}],
            "memory": {"limit": 268435456, "reservation": 134217728, "swap": 268435456, "swappiness": 0, "disableOOMKiller": false},
            "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "cpus": "0-1", "mems": "0"},
            "pids": {"limit": 100},
            "hugepageLimits": [{"pageSize": "2MB", "limit": 0}],
            "unified": {"memory.high": "max"}
          },
          "cgroupsPath": "/stevedore/abc",
          "namespaces": [{"type": "pid"}, {"type": "network", "path": "/run/netns/x"}],
          "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0}],
          "seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]},
          "rootfsPropagation": "rprivate",
          "maskedPaths": ["/proc/kcore"],
          "readonlyPaths": ["/proc/sys"],
          "mountLabel": "system_u:object_r:container_file_t:s0"
        }
      }
      """;

    @Test
    void toJson_representativeSpec_hasTheSpecsFieldNamesExactly() throws IOException {
        assertEquals(JSON.readTree(EXPECTED), JSON.readTree(SpecJson.toJson(representative())));
    }

    @Test
    void toJson_keepsRecordOrderAndSortsMaps() throws IOException {
        String json = SpecJson.toJson(representative());
        assertTrue(json.indexOf("\"ociVersion\"") < json.indexOf("\"process\""), json);
        assertTrue(json.indexOf("\"process\"") < json.indexOf("\"linux\""), json);
        assertTrue(json.indexOf("\"a\" : \"1\"") < json.indexOf("\"b\" : \"2\""), json);
    }

    @Test
    void writeThenRead_representativeSpec_roundTrips() throws IOException {
        Spec spec = representative();
        Path file = dir.resolve("config.json");

        SpecJson.write(spec, file);

        assertEquals(spec, SpecJson.read(file));
    }

    @Test
    void parse_expectedJson_equalsTheModel() throws IOException {
        assertEquals(representative(), SpecJson.parse(EXPECTED, Spec.class));
    }

    @Test
    void toJson_minimalSpec_omitsAbsentAndEmptyButKeepsRequired() throws IOException {
        Spec spec =
                new Spec("1.0.2", Process.of(List.of("/x")), new Root("rootfs", false), null, null, null, null, null);

        JsonNode json = JSON.readTree(SpecJson.toJson(spec));

        assertEquals(JSON.readTree("""
        {"ociVersion": "1.0.2",
         "process": {"user": {"uid": 0, "gid": 0}, "args": ["/x"], "cwd": "/"},
         "root": {"path": "rootfs"}}
        """), json);
    }

    @Test
    void oomScoreAdj_zero_isWrittenAndNullIsOmitted() throws IOException {
        Process zero = Process.of(List.of("/x")).withOomScoreAdj(0);

        assertEquals(0, JSON.readTree(SpecJson.toJson(zero)).get("oomScoreAdj").intValue());
        assertFalse(JSON.readTree(SpecJson.toJson(zero.withOomScoreAdj(null))).has("oomScoreAdj"));
        assertEquals(0, SpecJson.parse(SpecJson.toJson(zero), Process.class).oomScoreAdj());
        assertNull(SpecJson.parse("{\"user\":{\"uid\":0,\"gid\":0},\"cwd\":\"/\"}", Process.class)
                .oomScoreAdj());
    }

    @Test
    void memory_zeroLimits_areWritten() throws IOException {
        var memory = new Resources.Memory(0L, null, 0L, null, null, null, null);

        assertEquals(JSON.readTree("{\"limit\":0,\"swap\":0}"), JSON.readTree(SpecJson.toJson(memory)));
    }

    @Test
    void parse_unknownFields_areIgnored() throws IOException {
        Spec spec = SpecJson.parse("""
        {"ociVersion": "1.2.0", "domainname": "x", "linux": {"intelRdt": {"closID": "a"}, "cgroupsPath": "/a"}}
        """, Spec.class);

        assertEquals("/a", spec.linux().cgroupsPath());
    }

    @Test
    void read_invalidJson_isIoExceptionNamingTheFile() throws IOException {
        Path file = Files.writeString(dir.resolve("config.json"), "{\"ociVersion\": ");

        IOException e = assertThrows(IOException.class, () -> SpecJson.read(file));

        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    @Test
    void write_overExistingFile_replacesItAndLeavesNoTemporaryFile() throws IOException {
        Path file = Files.writeString(dir.resolve("config.json"), "old");

        SpecJson.write(Specs.defaults(), file);

        assertEquals(Specs.defaults(), SpecJson.read(file));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList());
        }
    }

    @ParameterizedTest
    @EnumSource(AtomicFiles.Durability.class)
    void write_isPrivateToTheRuntime(AtomicFiles.Durability durability) throws IOException {
        Path file = dir.resolve("process.json");

        SpecJson.write(Process.of(List.of("/x")), file, durability);

        assertEquals(Process.of(List.of("/x")), SpecJson.read(file, Process.class));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }

    @Test
    void records_copyTheirCollections() throws IOException {
        var args = new java.util.ArrayList<>(List.of("/a"));
        Process p = Process.of(args);
        args.add("/b");

        assertEquals(List.of("/a"), p.args());
        assertThrows(UnsupportedOperationException.class, () -> p.args().add("/c"));
        Spec spec = representative();
        ((com.fasterxml.jackson.databind.node.ObjectNode) spec.linux().seccomp()).put("defaultAction", "changed");
        assertEquals(
                "SCMP_ACT_ERRNO", spec.linux().seccomp().get("defaultAction").asText());
    }
}

package io.stevedore.server.container.spec;

import static io.stevedore.server.container.spec.SpecFixture.config;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.stevedore.cri.v1.Device;
import io.stevedore.oci.spec.Linux;
import io.stevedore.oci.spec.Resources;
import io.stevedore.oci.spec.Spec;
import io.stevedore.oci.spec.SpecJson;
import io.stevedore.server.error.CriException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Uses the host's /dev/null (char 1:3) and /dev/zero (1:5), present on every Linux. */
class ContainerDevicesTest {
    private SpecFixture f;

    @BeforeEach
    void setUp(@TempDir Path dir) {
        f = new SpecFixture(dir);
    }

    private static Device device(String host, String container, String permissions) {
        return Device.newBuilder()
                .setHostPath(host)
                .setContainerPath(container)
                .setPermissions(permissions)
                .build();
    }

    @Test
    void generate_criDevice_nodeFromTheHostAndAnAllowRule() throws IOException {
        Spec spec = f.generate(config().addDevices(device("/dev/null", "/dev/mynull", "rw")));

        var json = new ObjectMapper().readTree(SpecJson.toJson(spec.linux()));
        assertEquals(new ObjectMapper().readTree("""
        [{"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 438, "uid": 0, "gid": 0}]"""), json.get("devices"));
        assertEquals(
                List.of(Resources.DeviceRule.denyAll(), new Resources.DeviceRule(true, "c", 1L, 3L, "rw")),
                spec.linux().resources().devices());
    }

    @Test
    void generate_symlinkToADevice_isResolvedAndNamedByContainerPath() throws IOException {
        Path link = Files.createSymbolicLink(f.dir.resolve("zero"), Path.of("/dev/zero"));

        Spec spec = f.generate(config().addDevices(device(link.toString(), "", "rwm")));

        Linux.Device d = spec.linux().devices().getFirst();
        assertEquals("/dev/zero", d.path());
        assertEquals(5, d.minor());
    }

    @Test
    void generate_deviceDirectory_addsTheNodesBelowIt() {
        Spec spec = f.generate(config().addDevices(device("/dev", "/hostdev", "r")));

        assertTrue(spec.linux().devices().stream().anyMatch(d -> d.path().equals("/hostdev/null")));
        assertTrue(spec.linux().devices().stream().noneMatch(d -> d.path().startsWith("/hostdev/pts/")));
        assertEquals(
                spec.linux().devices().size() + 1,
                spec.linux().resources().devices().size());
    }

    @Test
    void generate_missingDevice_isInvalidArgument() {
        var e = assertThrows(
                CriException.InvalidArgument.class,
                () -> f.generate(config().addDevices(device("/dev/does-not-exist", "/dev/x", "rwm"))));

        assertEquals("create container \"app\": device \"/dev/does-not-exist\" does not exist", e.getMessage());
    }

    @Test
    void generate_regularFileAsDevice_isInvalidArgument() throws IOException {
        Path file = Files.writeString(f.dir.resolve("file"), "x");

        assertThrows(
                CriException.InvalidArgument.class,
                () -> f.generate(config().addDevices(device(file.toString(), "/dev/x", "rwm"))));
    }

    /** glibc's makedev, to check the decoding of large numbers (major above 4095, minor above 255). */
    private static long makedev(long major, long minor) {
        return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xffL) << 12) | ((major & ~0xfffL) << 32);
    }

    @ParameterizedTest
    @CsvSource({"1, 3", "8, 17", "259, 65536", "4096, 1048575", "4294967295, 4294967295"})
    void majorMinor_fromRdev_roundTrip(long major, long minor) {
        long rdev = makedev(major, minor);

        assertEquals(major, DeviceNodes.major(rdev));
        assertEquals(minor, DeviceNodes.minor(rdev));
    }
}

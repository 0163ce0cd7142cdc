package io.stevedore.server.image.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class PlatformTest {
    record Case(String osArch, String cpuinfo, String want) {}

    static Stream<Case> hosts() {
        return Stream.of(
                new Case("amd64", "", "linux/amd64"),
                new Case("x86_64", "", "linux/amd64"),
                new Case("aarch64", "", "linux/arm64/v8"),
                new Case("ppc64le", "", "linux/ppc64le"),
                new Case("s390x", "", "linux/s390x"),
                new Case("riscv64", "", "linux/riscv64"),
                new Case("x86", "", "linux/386"),
                new Case("i386", "", "linux/386"),
                new Case("arm", "processor\t: 0\nCPU architecture: 7\nCPU variant\t: 0x0\n", "linux/arm/v7"),
                new Case("arm", "CPU architecture: 6\n", "linux/arm/v6"),
                new Case("arm", "CPU architecture: 8\n", "linux/arm/v7"),
                new Case("arm", "", "linux/arm/v7"));
    }

    @ParameterizedTest
    @MethodSource("hosts")
    void forJavaArch_mapsToOciPlatform(Case c) {
        assertEquals(c.want(), Platform.forJavaArch(c.osArch(), c.cpuinfo()).toString());
    }

    @Test
    void forJavaArch_unknownArchitecture_isRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> Platform.forJavaArch("vax", ""));
        assertEquals("unsupported host architecture \"vax\"", e.getMessage());
    }

    @Test
    void host_isThisJvmsArchitecture() {
        String arch = System.getProperty("os.arch");
        assertEquals(
                Platform.forJavaArch(arch, "").architecture(), Platform.host().architecture());
        assertEquals("linux", Platform.host().os());
    }
}

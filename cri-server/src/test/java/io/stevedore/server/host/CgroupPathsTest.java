package io.stevedore.server.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class CgroupPathsTest {
    @ParameterizedTest
    @CsvSource({
        "'', '/abc'",
        "/kubepods/besteffort/pod1, /kubepods/besteffort/pod1/abc",
        "/kubepods/burstable/pod1/, /kubepods/burstable/pod1/abc",
        "kubepods-besteffort-pod1.slice, kubepods-besteffort-pod1.slice:stevedore:abc",
        "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice, "
                + "kubepods-burstable-pod1.slice:stevedore:abc",
        "stevedore-f00d.slice, stevedore-f00d.slice:stevedore:abc"
    })
    void container_parentDecidesTheForm(String parent, String expected) {
        assertEquals(expected, CgroupPaths.container(parent, "abc"));
    }

    @ParameterizedTest
    @CsvSource({
        "/kubepods/pod1/abc, kubepods/pod1/abc",
        "/, ''",
        "kubepods-besteffort-pod1.slice:stevedore:abc, "
                + "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/stevedore-abc.scope",
        "system.slice:docker:abc, system.slice/docker-abc.scope",
        ":stevedore:abc, system.slice/stevedore-abc.scope",
        "-.slice:stevedore:abc, stevedore-abc.scope",
        "kubepods-besteffort-pod1.slice, kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice",
        "stevedore-f00d.slice/f00d, stevedore.slice/stevedore-f00d.slice/f00d",
        "/kubepods.slice/kubepods-pod1.slice, kubepods.slice/kubepods-pod1.slice"
    })
    void relative_eachFormUnderTheRoot(String cgroupsPath, String expected) {
        assertEquals(Path.of(expected), CgroupPaths.relative(cgroupsPath));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "/kubepods/../etc",
                "a-b.slice/../../x",
                "a--b.slice:p:n",
                "-a.slice:p:n",
                "a.slice:p",
                "a.slice:p:../n",
                "..:p:n",
                "../x.slice:p:n"
            })
    void relative_escapesAndMalformedNames_refused(String cgroupsPath) {
        assertThrows(IllegalArgumentException.class, () -> CgroupPaths.relative(cgroupsPath));
    }
}

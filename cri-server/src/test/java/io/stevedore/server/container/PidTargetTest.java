package io.stevedore.server.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.cri.v1.ContainerConfig;
import io.stevedore.cri.v1.NamespaceMode;
import io.stevedore.cri.v1.NamespaceOption;
import io.stevedore.oci.spec.Linux;
import io.stevedore.oci.spec.SpecJson;
import io.stevedore.server.error.CriException;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PID namespace mode TARGET ({@code kubectl debug --target}) over fakes. */
class PidTargetTest {
    @TempDir
    Path dir;

    ContainerHarness h;

    @BeforeEach
    void start() throws IOException {
        h = new ContainerHarness(dir);
    }

    @AfterEach
    void stop() throws IOException {
        h.close();
    }

    static ContainerConfig debug(String targetId) {
        var b = ContainerHarness.config("debugger", "sh").toBuilder();
        b.getLinuxBuilder()
                .getSecurityContextBuilder()
                .setNamespaceOptions(NamespaceOption.newBuilder()
                        .setPid(NamespaceMode.TARGET)
                        .setTargetId(targetId));
        return b.build();
    }

    @Test
    void create_targetRunning_joinsItsInitsPidNamespace() throws IOException {
        String target = h.create("web");
        h.service.start(target);
        int pid = h.service.records().stream()
                .filter(r -> r.id().equals(target))
                .findFirst()
                .orElseThrow()
                .status()
                .pid();
        assertTrue(pid > 0);

        String id = h.service.create(ContainerHarness.POD, debug(target));

        var spec = SpecJson.read(h.env.bundle(id).resolve("config.json"));
        var pidNs = spec.linux().namespaces().stream()
                .filter(n -> n.type() == Linux.NamespaceType.PID)
                .findFirst()
                .orElseThrow();
        assertEquals("/proc/" + pid + "/ns/pid", pidNs.path());
    }

    @Test
    void create_unknownTarget_isNotFound() {
        var e = assertThrows(CriException.NotFound.class, () -> h.service.create(ContainerHarness.POD, debug("nope")));
        assertEquals("create container \"debugger\": target container \"nope\" not found", e.getMessage());
    }

    @Test
    void create_targetNotRunning_isFailedPrecondition() {
        String created = h.create("web");
        var e = assertThrows(
                CriException.FailedPrecondition.class, () -> h.service.create(ContainerHarness.POD, debug(created)));
        assertTrue(e.getMessage().contains("is not running (created)"), e.getMessage());

        h.service.start(created);
        h.service.stop(created, 0);
        assertThrows(
                CriException.FailedPrecondition.class, () -> h.service.create(ContainerHarness.POD, debug(created)));
    }

    @Test
    void create_targetWithoutId_isInvalidArgument() {
        assertThrows(CriException.InvalidArgument.class, () -> h.service.create(ContainerHarness.POD, debug("")));
    }
}

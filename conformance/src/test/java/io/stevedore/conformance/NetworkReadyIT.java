package io.stevedore.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.cri.v1.RuntimeCondition;
import io.stevedore.cri.v1.StatusRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** With a CNI network configured and its plugins present, both conditions are true. */
class NetworkReadyIT {
    @RegisterExtension
    static final LiveDaemon daemon = LiveDaemon.withConfig(NetworkReadyIT::network);

    private static String network(Path dir) {
        try {
            Files.createDirectories(dir.resolve("net.d"));
            Files.writeString(
                    dir.resolve("net.d/99-loopback.conf"),
                    "{\"cniVersion\":\"1.0.0\",\"name\":\"lo\",\"type\":\"loopback\"}");
            Files.createDirectories(dir.resolve("cni-bin"));
            Files.writeString(dir.resolve("cni-bin/loopback"), "#!/bin/sh\nexit 0\n");
            Files.setPosixFilePermissions(
                    dir.resolve("cni-bin/loopback"), PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return "[cni]\nconf_dir = \"" + dir + "/net.d\"\nbin_dirs = [\"" + dir + "/cni-bin\"]\n";
    }

    @Test
    void status_networkConfigured_bothReady() {
        var conditions = daemon.client()
                .runtime()
                .status(StatusRequest.getDefaultInstance())
                .getStatus()
                .getConditionsList();
        assertEquals(2, conditions.size());
        assertTrue(conditions.stream().allMatch(RuntimeCondition::getStatus), conditions::toString);
    }
}

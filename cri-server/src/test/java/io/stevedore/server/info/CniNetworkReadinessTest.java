package io.stevedore.server.info;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.cni.CniClient;
import io.stevedore.cni.CniClientConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CniNetworkReadinessTest {
    @TempDir
    Path tmp;

    Path conf;
    Path bin;
    CniNetworkReadiness readiness;

    @BeforeEach
    void dirs() throws IOException {
        conf = Files.createDirectory(tmp.resolve("net.d"));
        bin = Files.createDirectory(tmp.resolve("bin"));
        var cni = new CniClient(
                CniClientConfig.defaults().withBinDirs(List.of(bin)).withCacheDir(tmp.resolve("cache")));
        readiness = new CniNetworkReadiness(cni, conf);
    }

    private void plugin(String name) throws IOException {
        Files.writeString(bin.resolve(name), "#!/bin/sh\nexit 0\n");
        Files.setPosixFilePermissions(bin.resolve(name), PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @Test
    void emptyConfDir_notReady() {
        assertEquals(Optional.of("cni: no network config found in " + conf), readiness.notReadyBecause());
    }

    @Test
    void missingPlugin_notReadyNamingIt() throws IOException {
        plugin("bridge");
        Files.writeString(
                conf.resolve("10-net.conflist"),
                "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[{\"type\":\"bridge\"},{\"type\":\"portmap\"}]}");
        String why = readiness.notReadyBecause().orElseThrow();
        assertTrue(why.startsWith("cni: ") && why.contains("portmap"), why);
    }

    @Test
    void firstFileByName_withPlugins_isReady() throws IOException {
        plugin("loopback");
        Files.writeString(
                conf.resolve("10-lo.conf"), "{\"cniVersion\":\"0.4.0\",\"name\":\"lo\",\"type\":\"loopback\"}");
        Files.writeString(conf.resolve("20-other.conflist"), "{not json, but not first}");
        assertEquals(Optional.empty(), readiness.notReadyBecause());
    }

    @Test
    void invalidFirstFile_notReady() throws IOException {
        Files.writeString(conf.resolve("10-x.conflist"), "{not json");
        assertTrue(readiness.notReadyBecause().orElseThrow().startsWith("cni: "));
    }
}

package io.stevedore.server.info;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CniConfReadinessTest {
  @TempDir Path tmp;
  Path conf;
  Path bin;
  CniConfReadiness readiness;

  @BeforeEach
  void dirs() throws IOException {
    conf = Files.createDirectory(tmp.resolve("net.d"));
    bin = Files.createDirectory(tmp.resolve("bin"));
    readiness = new CniConfReadiness(conf, List.of(tmp.resolve("absent"), bin));
  }

  private void plugin(String name) throws IOException {
    Files.createFile(bin.resolve(name), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
  }

  @Test
  void emptyConfDir_notReady() {
    assertEquals(Optional.of("cni: no network config found in " + conf), readiness.notReadyBecause());
  }

  @Test
  void missingConfDir_notReady() {
    var r = new CniConfReadiness(tmp.resolve("nope"), List.of(bin)).notReadyBecause();
    assertEquals(true, r.orElseThrow().startsWith("cni: cannot read network config dir"));
  }

  @Test
  void conflistWithMissingPlugin_notReady() throws IOException {
    plugin("bridge");
    Files.writeString(conf.resolve("10-net.conflist"),
        "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[{\"type\":\"bridge\"},{\"type\":\"portmap\"}]}");
    assertEquals(Optional.of("cni: plugin \"portmap\" of " + conf.resolve("10-net.conflist") + " not found in "
        + List.of(tmp.resolve("absent"), bin)), readiness.notReadyBecause());
  }

  @Test
  void firstFileByName_decides() throws IOException {
    plugin("loopback");
    Files.writeString(conf.resolve("20-broken.conflist"), "{not json");
    Files.writeString(conf.resolve("10-lo.conf"), "{\"cniVersion\":\"0.4.0\",\"name\":\"lo\",\"type\":\"loopback\"}");
    Files.writeString(conf.resolve("README"), "ignored: not a config extension");
    assertEquals(Optional.empty(), readiness.notReadyBecause());
  }

  @Test
  void invalidJson_notReady() throws IOException {
    Files.writeString(conf.resolve("10-x.conflist"), "{not json");
    assertEquals(true, readiness.notReadyBecause().orElseThrow().startsWith("cni: invalid network config"));
  }
}

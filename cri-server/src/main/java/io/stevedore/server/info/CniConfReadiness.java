package io.stevedore.server.info;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Network readiness as containerd and CRI-O report it: ready when the CNI config directory holds
 * a network configuration whose every plugin exists in one of the plugin directories. The file
 * chosen is the first {@code .conf}, {@code .conflist} or {@code .json} by name, as libcni does.
 */
public final class CniConfReadiness implements NetworkReadiness {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path confDir;
  private final List<Path> binDirs;

  public CniConfReadiness(Path confDir, List<Path> binDirs) {
    this.confDir = confDir;
    this.binDirs = List.copyOf(binDirs);
  }

  @Override
  public Optional<String> notReadyBecause() {
    Optional<Path> conf;
    try (Stream<Path> files = Files.list(confDir)) {
      conf = files.filter(CniConfReadiness::isNetworkConfig).sorted().findFirst();
    } catch (IOException e) {
      return Optional.of("cni: cannot read network config dir " + confDir + ": " + e.getMessage());
    }
    if (conf.isEmpty()) {
      return Optional.of("cni: no network config found in " + confDir);
    }
    List<String> types = new ArrayList<>();
    try {
      JsonNode root = JSON.readTree(conf.get().toFile());
      JsonNode plugins = root.has("plugins") ? root.get("plugins") : JSON.createArrayNode().add(root);
      plugins.forEach(p -> types.add(p.path("type").asText()));
    } catch (IOException e) {
      return Optional.of("cni: invalid network config " + conf.get() + ": " + e.getMessage());
    }
    for (String type : types) {
      if (type.isEmpty() || binDirs.stream().map(d -> d.resolve(type)).noneMatch(Files::isExecutable)) {
        return Optional.of(
            "cni: plugin \"" + type + "\" of " + conf.get() + " not found in " + binDirs);
      }
    }
    return Optional.empty();
  }

  private static boolean isNetworkConfig(Path p) {
    String n = p.getFileName().toString();
    return Files.isRegularFile(p) && (n.endsWith(".conf") || n.endsWith(".conflist") || n.endsWith(".json"));
  }
}

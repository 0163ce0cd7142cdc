package io.stevedore.server.grpc;

import io.stevedore.cri.v1.ContainerConfig;
import io.stevedore.cri.v1.ImageSpec;
import io.stevedore.cri.v1.PodSandboxConfig;
import io.stevedore.server.error.CriException;
import java.util.List;

/**
 * Validation of the fields a CRI request cannot do without. Failures are INVALID_ARGUMENT and
 * name the field as it is spelled in the protocol, so the caller can find it.
 */
public final class Requests {
  private Requests() {}

  /** An object id (or unique prefix) that must be present. */
  public static String requireId(String value, String field) {
    if (value == null || value.isBlank()) {
      throw new CriException.InvalidArgument(field + " must not be empty");
    }
    return value;
  }

  /** A command line that must have at least its program. */
  public static List<String> requireCommand(List<String> cmd, String field) {
    if (cmd.isEmpty() || cmd.getFirst().isEmpty()) {
      throw new CriException.InvalidArgument(field + " must name a command to run");
    }
    return cmd;
  }

  /** An image reference that must be present. */
  public static ImageSpec requireImage(boolean present, ImageSpec spec, String field) {
    if (!present || spec.getImage().isBlank()) {
      throw new CriException.InvalidArgument(field + ".image must not be empty");
    }
    return spec;
  }

  /** A pod config with the metadata kubelet always sends: name, namespace and uid. */
  public static PodSandboxConfig requirePodConfig(boolean present, PodSandboxConfig config) {
    if (!present) {
      throw new CriException.InvalidArgument("config must be set");
    }
    if (!config.hasMetadata()) {
      throw new CriException.InvalidArgument("config.metadata must be set");
    }
    var m = config.getMetadata();
    requireId(m.getName(), "config.metadata.name");
    requireId(m.getNamespace(), "config.metadata.namespace");
    requireId(m.getUid(), "config.metadata.uid");
    return config;
  }

  /** A container config with a name and an image. */
  public static ContainerConfig requireContainerConfig(boolean present, ContainerConfig config) {
    if (!present) {
      throw new CriException.InvalidArgument("config must be set");
    }
    if (!config.hasMetadata()) {
      throw new CriException.InvalidArgument("config.metadata must be set");
    }
    requireId(config.getMetadata().getName(), "config.metadata.name");
    requireImage(config.hasImage(), config.getImage(), "config.image");
    return config;
  }
}

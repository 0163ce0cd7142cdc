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
    requireName(m.getName(), "config.metadata.name");
    requireName(m.getNamespace(), "config.metadata.namespace");
    requireName(m.getUid(), "config.metadata.uid");
    for (var pm : config.getPortMappingsList()) {
      checkPortMapping(pm);
    }
    config.getLinux().getSysctlsMap().forEach((k, v) -> {
      if (!printable(k) || k.isEmpty() || !printable(v) || k.length() > 253 || v.length() > 4096) {
        throw new CriException.InvalidArgument("config.linux.sysctls: \"" + CriException.shown(k) + "\" = \"" + CriException.shown(v)
            + "\" must be printable, without control characters");
      }
    });
    return config;
  }

  /** The longest name, namespace or uid we take (a DNS subdomain, as Kubernetes names are). */
  static final int MAX_NAME = 253;

  /**
   * A metadata name: present, at most {@link #MAX_NAME} characters, no control characters (a
   * NUL or a newline reaches file names, CNI arguments and logs) and no {@code /}.
   */
  public static String requireName(String value, String field) {
    requireId(value, field);
    if (value.length() > MAX_NAME || !printable(value) || value.indexOf('/') >= 0) {
      throw new CriException.InvalidArgument(field + " \"" + CriException.shown(value) + "\" must be at most " + MAX_NAME
          + " characters, without '/' or control characters");
    }
    return value;
  }

  private static void checkPortMapping(io.stevedore.cri.v1.PortMapping pm) {
    if (pm.getContainerPort() < 1 || pm.getContainerPort() > 65535) {
      throw new CriException.InvalidArgument("config.port_mappings: container_port " + pm.getContainerPort()
          + " is not in 1-65535");
    }
    if (pm.getHostPort() < 0 || pm.getHostPort() > 65535) {
      throw new CriException.InvalidArgument("config.port_mappings: host_port " + pm.getHostPort()
          + " is not in 0-65535");
    }
    if (pm.getProtocol() == io.stevedore.cri.v1.Protocol.UNRECOGNIZED) {
      throw new CriException.InvalidArgument("config.port_mappings: protocol " + pm.getProtocolValue()
          + " is not TCP, UDP or SCTP");
    }
    if (!pm.getHostIp().isEmpty() && !com.google.common.net.InetAddresses.isInetAddress(pm.getHostIp())) {
      throw new CriException.InvalidArgument("config.port_mappings: host_ip \"" + CriException.shown(pm.getHostIp())
          + "\" is not an IP address");
    }
  }

  private static boolean printable(String s) {
    return s.chars().noneMatch(c -> c < 0x20 || c == 0x7f);
  }

  /** A container config with a name and an image. */
  public static ContainerConfig requireContainerConfig(boolean present, ContainerConfig config) {
    if (!present) {
      throw new CriException.InvalidArgument("config must be set");
    }
    if (!config.hasMetadata()) {
      throw new CriException.InvalidArgument("config.metadata must be set");
    }
    requireName(config.getMetadata().getName(), "config.metadata.name");
    requireImage(config.hasImage(), config.getImage(), "config.image");
    return config;
  }
}

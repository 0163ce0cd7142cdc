package io.stevedore.server.sandbox;

import io.stevedore.cni.CniClient;
import io.stevedore.cni.CniConfDir;
import io.stevedore.cni.CniException;
import io.stevedore.cni.NetworkConfigList;
import io.stevedore.cni.NetworkConfigs;
import io.stevedore.cni.PortMapping;
import io.stevedore.cni.Result;
import io.stevedore.cni.RuntimeConf;
import io.stevedore.cri.v1.PodSandboxConfig;
import io.stevedore.cri.v1.Protocol;
import io.stevedore.server.error.CriException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A pod's network through CNI: the first network of the config dir on {@code eth0}, plus the
 * loopback plugin on {@code lo}, as containerd does. Port mappings and DNS go to the plugins as
 * capability arguments.
 */
final class PodNetwork {
  private static final String LOOPBACK =
      "{\"cniVersion\":\"0.3.1\",\"name\":\"cni-loopback\",\"type\":\"loopback\"}";

  private final CniClient cni;
  private final CniConfDir confDir;
  private final NetworkConfigList loopback;

  PodNetwork(CniClient cni, Path confDir) {
    this.cni = cni;
    this.confDir = new CniConfDir(confDir);
    try {
      this.loopback = NetworkConfigs.parse(LOOPBACK, "built-in loopback");
    } catch (CniException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The IPs of the pod, primary first. */
  List<String> setUp(String sandboxId, Path netns, PodSandboxConfig cfg) {
    NetworkConfigList net = network();
    try {
      cni.add(loopback, RuntimeConf.of(sandboxId, netns.toString(), "lo"));
      Result r = cni.add(net, runtimeConf(sandboxId, netns, cfg));
      var ips = new ArrayList<String>();
      r.podIp(false).ifPresent(ip -> ips.add(ip.ip()));
      for (var ip : r.ips()) {
        if (!ips.contains(ip.ip())) ips.add(ip.ip());
      }
      return ips;
    } catch (CniException e) {
      throw new IllegalStateException("set up network of sandbox \"" + sandboxId + "\": " + e.getMessage(), e);
    }
  }

  /** CNI DEL; succeeds when the namespace is already gone. */
  void tearDown(String sandboxId, Path netns, PodSandboxConfig cfg) {
    NetworkConfigList net = network();
    try {
      cni.delete(net, runtimeConf(sandboxId, netns, cfg));
    } catch (CniException e) {
      throw new IllegalStateException("tear down network of sandbox \"" + sandboxId + "\": " + e.getMessage(), e);
    }
  }

  private NetworkConfigList network() {
    try {
      confDir.reload();
      return confDir.require();
    } catch (CniException e) {
      throw new CriException.FailedPrecondition("network not ready: " + e.getMessage());
    }
  }

  private static RuntimeConf runtimeConf(String sandboxId, Path netns, PodSandboxConfig cfg) {
    var md = cfg.getMetadata();
    RuntimeConf rc = RuntimeConf.of(sandboxId, netns.toString(), "eth0")
        .withArgs(RuntimeConf.kubernetesPodArgs(md.getNamespace(), md.getName(), sandboxId, md.getUid()));
    var ports = new ArrayList<PortMapping>();
    for (var pm : cfg.getPortMappingsList()) {
      if (pm.getHostPort() <= 0) continue; // only host ports need the plugin
      ports.add(new PortMapping(pm.getHostPort(), pm.getContainerPort(), protocol(pm.getProtocol()), pm.getHostIp()));
    }
    if (!ports.isEmpty()) rc = rc.withCapability(RuntimeConf.PORT_MAPPINGS, ports);
    if (cfg.hasDnsConfig()) {
      Map<String, Object> dns = new LinkedHashMap<>();
      dns.put("servers", List.copyOf(cfg.getDnsConfig().getServersList()));
      dns.put("searches", List.copyOf(cfg.getDnsConfig().getSearchesList()));
      dns.put("options", List.copyOf(cfg.getDnsConfig().getOptionsList()));
      rc = rc.withCapability(RuntimeConf.DNS, dns);
    }
    return rc;
  }

  private static String protocol(Protocol p) {
    return switch (p) {
      case UDP -> "udp";
      case SCTP -> "sctp";
      default -> "tcp";
    };
  }
}

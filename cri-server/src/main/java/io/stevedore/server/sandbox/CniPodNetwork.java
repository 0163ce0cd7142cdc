package io.stevedore.server.sandbox;

import io.stevedore.cni.CniClient;
import io.stevedore.cni.CniConfDir;
import io.stevedore.cni.CniException;
import io.stevedore.cni.GcAttachment;
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
import java.util.Set;

/**
 * A pod's network through CNI: the first network of the config dir on {@code eth0}. Port
 * mappings and DNS go to the plugins as capability arguments. {@code lo} is already up:
 * stevedore-pinns raises it when it creates the namespace, which saves the loopback plugin run
 * containerd makes per pod.
 */
final class CniPodNetwork implements PodNetwork {
    private final CniClient cni;
    private final CniConfDir confDir;

    CniPodNetwork(CniClient cni, Path confDir) {
        this.cni = cni;
        this.confDir = new CniConfDir(confDir);
    }

    @Override
    public List<String> setUp(String sandboxId, Path netns, PodSandboxConfig cfg) {
        NetworkConfigList net = forPod(network(), cfg);
        try {
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
    @Override
    public void tearDown(String sandboxId, Path netns, PodSandboxConfig cfg) {
        NetworkConfigList net = forPod(network(), cfg);
        try {
            cni.delete(net, runtimeConf(sandboxId, netns, cfg));
        } catch (CniException e) {
            throw new IllegalStateException("tear down network of sandbox \"" + sandboxId + "\": " + e.getMessage(), e);
        }
    }

    @Override
    public void collectGarbage(Set<String> attached) {
        NetworkConfigList net;
        try {
            confDir.reload();
            net = confDir.require();
        } catch (CniException e) {
            return; // no network configured: nothing can be attached through one
        }
        try {
            cni.gc(
                    net,
                    attached.stream().map(id -> new GcAttachment(id, "eth0")).toList());
        } catch (CniException e) {
            throw new IllegalStateException("CNI GC of network \"" + net.name() + "\": " + e.getMessage(), e);
        }
    }

    /**
     * The network as this pod uses it: without {@code portmap} when the pod maps no host port. For
     * such a pod portmap's ADD creates nothing, and its DEL only runs iptables to find nothing, at
     * tens of milliseconds per pod; the same list is used (and cached) for ADD and DEL.
     */
    private NetworkConfigList forPod(NetworkConfigList net, PodSandboxConfig cfg) {
        boolean hostPorts = cfg.getPortMappingsList().stream().anyMatch(pm -> pm.getHostPort() > 0);
        if (hostPorts
                || net.plugins().stream().noneMatch(p -> p.type().equals("portmap"))
                || net.plugins().stream().allMatch(p -> p.type().equals("portmap"))) {
            return net;
        }
        NetworkConfigList cached = withoutPortmap;
        if (cached != null && cachedFrom == net) return cached;
        try {
            var root = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(net.json());
            var plugins = root.withArray("plugins");
            for (int i = plugins.size() - 1; i >= 0; i--) {
                if ("portmap".equals(plugins.get(i).path("type").asText())) plugins.remove(i);
            }
            cached = NetworkConfigs.parse(JSON.writeValueAsString(root), net.name() + " without portmap");
        } catch (java.io.IOException | CniException | ClassCastException e) {
            return net;
        }
        withoutPortmap = cached;
        cachedFrom = net;
        return cached;
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();
    private volatile NetworkConfigList withoutPortmap;
    private volatile NetworkConfigList cachedFrom;

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
            ports.add(new PortMapping(
                    pm.getHostPort(), pm.getContainerPort(), protocol(pm.getProtocol()), pm.getHostIp()));
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

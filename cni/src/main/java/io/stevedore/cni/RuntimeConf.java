package io.stevedore.cni;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * What the runtime tells plugins about one attachment: the container, its network namespace, the interface
 * name, {@code CNI_ARGS}, and capability arguments (filtered per plugin into {@code runtimeConfig}).
 * Immutable; the {@code with*} methods return copies.
 *
 * {@snippet :
 * var rt = RuntimeConf.of(sandboxId, "/run/stevedore/netns/" + sandboxId, "eth0")
 *     .withArgs(RuntimeConf.kubernetesPodArgs("default", "web-0", sandboxId, podUid))
 *     .withCapability(RuntimeConf.PORT_MAPPINGS, List.of(new PortMapping(8080, 80, "tcp", "")));
 * }
 *
 * @param containerId {@code CNI_CONTAINERID}
 * @param netns {@code CNI_NETNS}, a path; empty when there is none (allowed for DEL)
 * @param ifName {@code CNI_IFNAME}
 * @param args {@code CNI_ARGS} pairs, in order
 * @param capabilityArgs capability name to a JSON-serialisable value (maps, lists, strings, numbers, records)
 */
public record RuntimeConf(
        String containerId, String netns, String ifName, List<Arg> args, Map<String, Object> capabilityArgs) {

    /** Capability {@code portMappings}: a list of {@link PortMapping}. */
    public static final String PORT_MAPPINGS = "portMappings";
    /** Capability {@code dns}: {@code {"servers":[..],"searches":[..],"options":[..]}}. */
    public static final String DNS = "dns";
    /** Capability {@code ipRanges}: a list of range sets, e.g. {@code [[{"subnet":"10.1.0.0/24"}]]}. */
    public static final String IP_RANGES = "ipRanges";
    /** Capability {@code bandwidth}: {@code {"ingressRate":..,"ingressBurst":..,"egressRate":..,"egressBurst":..}}. */
    public static final String BANDWIDTH = "bandwidth";

    /** One {@code KEY=VALUE} pair of {@code CNI_ARGS}. */
    public record Arg(String key, String value) {
        public Arg {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
        }
    }

    public RuntimeConf {
        Objects.requireNonNull(containerId, "containerId");
        netns = netns == null ? "" : netns;
        Objects.requireNonNull(ifName, "ifName");
        args = List.copyOf(args);
        capabilityArgs = Map.copyOf(capabilityArgs);
    }

    /** A configuration without args or capability arguments. */
    public static RuntimeConf of(String containerId, String netns, String ifName) {
        return new RuntimeConf(containerId, netns, ifName, List.of(), Map.of());
    }

    /** The args kubelet-facing runtimes pass: {@code IgnoreUnknown=1;K8S_POD_NAMESPACE=..;K8S_POD_NAME=..;..}. */
    public static List<Arg> kubernetesPodArgs(String namespace, String name, String infraContainerId, String uid) {
        return List.of(
                new Arg("IgnoreUnknown", "1"),
                new Arg("K8S_POD_NAMESPACE", namespace),
                new Arg("K8S_POD_NAME", name),
                new Arg("K8S_POD_INFRA_CONTAINER_ID", infraContainerId),
                new Arg("K8S_POD_UID", uid));
    }

    /** A copy with {@code more} appended to {@link #args()}. */
    public RuntimeConf withArgs(List<Arg> more) {
        var all = new ArrayList<>(args);
        all.addAll(more);
        return new RuntimeConf(containerId, netns, ifName, all, capabilityArgs);
    }

    /** A copy with capability {@code name} set to {@code value}. */
    public RuntimeConf withCapability(String name, Object value) {
        var caps = new LinkedHashMap<>(capabilityArgs);
        caps.put(name, value);
        return new RuntimeConf(containerId, netns, ifName, args, caps);
    }

    /** A copy with another namespace path (empty for none). */
    public RuntimeConf withNetns(String path) {
        return new RuntimeConf(containerId, path, ifName, args, capabilityArgs);
    }

    /** The {@code CNI_ARGS} value: pairs joined as {@code K=V;K=V}. */
    public String cniArgs() {
        return args.stream().map(a -> a.key() + "=" + a.value()).collect(Collectors.joining(";"));
    }
}

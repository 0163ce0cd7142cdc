package io.stevedore.cni;

import io.stevedore.cni.internal.ResultCodec;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The outcome of ADD in one model for every supported version: 0.3.x, 0.4.0 and 1.x share the same shape
 * (interfaces, IPs pointing at an interface by index, routes, DNS); 0.3.x/0.4.0's per-IP {@code version} is
 * derived from the address and not kept.
 *
 * @param cniVersion the version the plugin answered in
 * @param interfaces the interfaces the plugins created or configured
 * @param ips the addresses assigned
 * @param routes the routes added
 * @param dns DNS settings, empty lists when the plugin gave none
 */
public record Result(
        CniVersion cniVersion, List<Interface> interfaces, List<IpConfig> ips, List<Route> routes, Dns dns) {

    /**
     * @param name the interface name
     * @param mac the hardware address, or {@code null}
     * @param mtu the MTU, or {@code null}
     * @param sandbox the netns path when the interface is inside the container, or {@code null} on the host
     * @param socketPath (1.1.0) a socket for userspace interfaces, or {@code null}
     * @param pciId (1.1.0) a PCI id, or {@code null}
     */
    public record Interface(String name, String mac, Integer mtu, String sandbox, String socketPath, String pciId) {
        public Interface {
            Objects.requireNonNull(name, "name");
        }

        /** Whether the interface lives in a container namespace rather than on the host. */
        public boolean inSandbox() {
            return sandbox != null && !sandbox.isEmpty();
        }
    }

    /**
     * @param address the address with its prefix length, e.g. {@code 10.88.0.5/16}
     * @param gateway the gateway, or {@code null}
     * @param interfaceIndex the index into {@link Result#interfaces()}, or {@code null}
     */
    public record IpConfig(String address, String gateway, Integer interfaceIndex) {
        public IpConfig {
            Objects.requireNonNull(address, "address");
        }

        /** The address without its prefix length. */
        public String ip() {
            int slash = address.indexOf('/');
            return slash < 0 ? address : address.substring(0, slash);
        }

        /** Whether the address is IPv6. */
        public boolean isIpv6() {
            return ip().contains(":");
        }
    }

    /** A route; the fields after {@code gw} are 1.1.0 additions and {@code null} when absent. */
    public record Route(
            String dst, String gw, Integer mtu, Integer advmss, Integer priority, Integer table, Integer scope) {
        public Route {
            Objects.requireNonNull(dst, "dst");
        }
    }

    /** DNS settings; absent values are empty lists and a {@code null} domain. */
    public record Dns(List<String> nameservers, String domain, List<String> search, List<String> options) {
        public static final Dns EMPTY = new Dns(List.of(), null, List.of(), List.of());

        public Dns {
            nameservers = List.copyOf(nameservers);
            search = List.copyOf(search);
            options = List.copyOf(options);
        }
    }

    public Result {
        Objects.requireNonNull(cniVersion, "cniVersion");
        interfaces = List.copyOf(interfaces);
        ips = List.copyOf(ips);
        routes = List.copyOf(routes);
        dns = dns == null ? Dns.EMPTY : dns;
    }

    /**
     * Parses a plugin's result in any supported version.
     *
     * @throws CniException when it is not JSON, its version is missing or unsupported, or a field is malformed
     */
    public static Result parse(String json) throws CniException {
        return ResultCodec.parse(json);
    }

    /** The first address of the wanted family that sits on a sandbox interface (or on no interface). */
    public Optional<IpConfig> podIp(boolean ipv6) {
        return ips.stream()
                .filter(ip -> ip.isIpv6() == ipv6)
                .filter(ip -> ip.interfaceIndex() == null
                        || ip.interfaceIndex() < 0
                        || ip.interfaceIndex() >= interfaces.size()
                        || interfaces.get(ip.interfaceIndex()).inSandbox())
                .findFirst();
    }
}

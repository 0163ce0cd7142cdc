package io.stevedore.cni;

/**
 * One entry of the {@code portMappings} capability, as the portmap plugin reads it.
 *
 * @param hostPort the port on the host
 * @param containerPort the port in the pod
 * @param protocol {@code tcp}, {@code udp} or {@code sctp}
 * @param hostIP the host address to bind, or empty for all
 */
public record PortMapping(int hostPort, int containerPort, String protocol, String hostIP) {
    public PortMapping {
        protocol = protocol == null || protocol.isEmpty() ? "tcp" : protocol;
        hostIP = hostIP == null ? "" : hostIP;
    }
}

package io.stevedore.server.sandbox;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stevedore.cri.v1.LinuxPodSandboxStatus;
import io.stevedore.cri.v1.Namespace;
import io.stevedore.cri.v1.PodIP;
import io.stevedore.cri.v1.PodSandbox;
import io.stevedore.cri.v1.PodSandboxConfig;
import io.stevedore.cri.v1.PodSandboxNetworkStatus;
import io.stevedore.cri.v1.PodSandboxState;
import io.stevedore.cri.v1.PodSandboxStatus;
import java.util.LinkedHashMap;
import java.util.Map;

/** Stored pods as CRI messages. */
final class SandboxProtos {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SandboxProtos() {}

    static PodSandbox sandbox(SandboxMetadata m, SandboxStatus st) {
        PodSandboxConfig cfg = m.config();
        return PodSandbox.newBuilder()
                .setId(m.id())
                .setMetadata(cfg.getMetadata())
                .setState(state(st))
                .setCreatedAt(m.createdAt())
                .putAllLabels(cfg.getLabelsMap())
                .putAllAnnotations(cfg.getAnnotationsMap())
                .setRuntimeHandler(m.runtimeHandler())
                .build();
    }

    static PodSandboxStatus status(SandboxMetadata m, SandboxStatus st) {
        PodSandboxConfig cfg = m.config();
        var net = PodSandboxNetworkStatus.newBuilder().setIp(m.ip());
        m.additionalIps().forEach(ip -> net.addAdditionalIps(PodIP.newBuilder().setIp(ip)));
        return PodSandboxStatus.newBuilder()
                .setId(m.id())
                .setMetadata(cfg.getMetadata())
                .setState(state(st))
                .setCreatedAt(m.createdAt())
                .setNetwork(net)
                .setLinux(LinuxPodSandboxStatus.newBuilder()
                        .setNamespaces(Namespace.newBuilder()
                                .setOptions(cfg.getLinux().getSecurityContext().getNamespaceOptions())))
                .putAllLabels(cfg.getLabelsMap())
                .putAllAnnotations(cfg.getAnnotationsMap())
                .setRuntimeHandler(m.runtimeHandler())
                .build();
    }

    /** containerd's verbose {@code info}: pid, namespaces, cgroup, config. */
    static Map<String, String> verboseInfo(SandboxMetadata m, SandboxStatus st) {
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("pid", st.isReady() ? st.pausePid() : 0);
        info.put("processStatus", st.isReady() ? "running" : "stopped");
        info.put("netNamespacePath", m.netns());
        info.put("ipcNamespacePath", m.ipcns());
        info.put("utsNamespacePath", m.utsns());
        info.put("shm", m.shm());
        info.put("cgroupParent", m.cgroupParent());
        info.put("runtimeHandler", m.runtimeHandler());
        try {
            info.put("hostname", m.config().getHostname());
            info.put("ip", m.ip());
            return Map.of("info", JSON.writeValueAsString(info));
        } catch (JsonProcessingException e) {
            return Map.of();
        }
    }

    private static PodSandboxState state(SandboxStatus st) {
        return st.isReady() ? PodSandboxState.SANDBOX_READY : PodSandboxState.SANDBOX_NOTREADY;
    }
}

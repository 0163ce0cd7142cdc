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

    static PodSandbox sandbox(SandboxRecord r) {
        PodSandboxConfig cfg = SandboxService.config(r);
        return PodSandbox.newBuilder()
                .setId(r.id())
                .setMetadata(cfg.getMetadata())
                .setState(state(r))
                .setCreatedAt(r.createdAt())
                .putAllLabels(cfg.getLabelsMap())
                .putAllAnnotations(cfg.getAnnotationsMap())
                .setRuntimeHandler(r.runtimeHandler())
                .build();
    }

    static PodSandboxStatus status(SandboxRecord r) {
        PodSandboxConfig cfg = SandboxService.config(r);
        var net = PodSandboxNetworkStatus.newBuilder().setIp(r.ip());
        r.additionalIps().forEach(ip -> net.addAdditionalIps(PodIP.newBuilder().setIp(ip)));
        return PodSandboxStatus.newBuilder()
                .setId(r.id())
                .setMetadata(cfg.getMetadata())
                .setState(state(r))
                .setCreatedAt(r.createdAt())
                .setNetwork(net)
                .setLinux(LinuxPodSandboxStatus.newBuilder()
                        .setNamespaces(Namespace.newBuilder()
                                .setOptions(cfg.getLinux().getSecurityContext().getNamespaceOptions())))
                .putAllLabels(cfg.getLabelsMap())
                .putAllAnnotations(cfg.getAnnotationsMap())
                .setRuntimeHandler(r.runtimeHandler())
                .build();
    }

    /** containerd's verbose {@code info}: pid, namespaces, cgroup, config. */
    static Map<String, String> verboseInfo(SandboxRecord r) {
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("pid", r.pausePid());
        info.put("processStatus", r.ready() ? "running" : "stopped");
        info.put("netNamespacePath", r.netns());
        info.put("ipcNamespacePath", r.ipcns());
        info.put("utsNamespacePath", r.utsns());
        info.put("shm", r.shm());
        info.put("cgroupParent", r.cgroupParent());
        info.put("runtimeHandler", r.runtimeHandler());
        try {
            info.put("hostname", SandboxService.config(r).getHostname());
            info.put("ip", r.ip());
            return Map.of("info", JSON.writeValueAsString(info));
        } catch (JsonProcessingException e) {
            return Map.of();
        }
    }

    private static PodSandboxState state(SandboxRecord r) {
        return r.ready() ? PodSandboxState.SANDBOX_READY : PodSandboxState.SANDBOX_NOTREADY;
    }
}

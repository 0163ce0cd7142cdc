package io.stevedore.server.container;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.stevedore.cri.v1.Container;
import io.stevedore.cri.v1.ContainerConfig;
import io.stevedore.cri.v1.ContainerResources;
import io.stevedore.cri.v1.ContainerStatus;
import io.stevedore.cri.v1.ContainerUser;
import io.stevedore.cri.v1.ImageSpec;
import io.stevedore.cri.v1.LinuxContainerUser;
import io.stevedore.oci.spec.Spec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** Stored containers as CRI messages. */
final class ContainerProtos {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ContainerProtos() {}

    static Container container(ContainerRecord r) {
        ContainerConfig cfg = r.criConfig();
        return Container.newBuilder()
                .setId(r.id())
                .setPodSandboxId(r.sandboxId())
                .setMetadata(cfg.getMetadata())
                .setImage(image(r, cfg))
                .setImageRef(r.imageRef())
                .setImageId(r.imageId())
                .setState(r.status().state())
                .setCreatedAt(r.createdAt())
                .putAllLabels(cfg.getLabelsMap())
                .putAllAnnotations(cfg.getAnnotationsMap())
                .build();
    }

    static ContainerStatus status(ContainerRecord r, Optional<Spec> spec) {
        ContainerConfig cfg = r.criConfig();
        var s = r.status();
        var b = ContainerStatus.newBuilder()
                .setId(r.id())
                .setMetadata(cfg.getMetadata())
                .setState(s.state())
                .setCreatedAt(r.createdAt())
                .setStartedAt(s.startedAt())
                .setFinishedAt(s.finishedAt())
                .setExitCode(s.exitCode())
                .setImage(image(r, cfg))
                .setImageRef(r.imageRef())
                .setImageId(r.imageId())
                .setReason(s.reason())
                .setMessage(s.message())
                .putAllLabels(cfg.getLabelsMap())
                .putAllAnnotations(cfg.getAnnotationsMap())
                .addAllMounts(cfg.getMountsList())
                .setLogPath(r.logPath())
                .setStopSignal(cfg.getStopSignal());
        if (cfg.hasLinux() && cfg.getLinux().hasResources()) {
            b.setResources(
                    ContainerResources.newBuilder().setLinux(cfg.getLinux().getResources()));
        }
        spec.map(Spec::process)
                .map(p -> p.user())
                .ifPresent(u -> b.setUser(ContainerUser.newBuilder()
                        .setLinux(LinuxContainerUser.newBuilder()
                                .setUid(u.uid())
                                .setGid(u.gid())
                                .addAllSupplementalGroups(u.additionalGids()))));
        return b.build();
    }

    private static ImageSpec image(ContainerRecord r, ContainerConfig cfg) {
        return ImageSpec.newBuilder(cfg.getImage()).setImage(r.imageName()).build();
    }

    /** containerd's verbose {@code info}: pid, sandbox, runtime spec. */
    static Map<String, String> verboseInfo(ContainerRecord r, Path configJson) {
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("sandboxID", r.sandboxId());
        info.put("pid", r.status().pid());
        info.put("removing", false);
        info.put("snapshotKey", r.id());
        info.put("cgroupsPath", r.cgroupsPath());
        try {
            info.put("runtimeSpec", JSON.readTree(Files.readString(configJson)));
            return Map.of("info", JSON.writeValueAsString(info));
        } catch (IOException e) {
            try {
                return Map.of("info", JSON.writeValueAsString(info));
            } catch (IOException impossible) {
                return Map.of();
            }
        }
    }
}

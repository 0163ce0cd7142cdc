package io.stevedore.server.stats;

import io.stevedore.cri.v1.ContainerAttributes;
import io.stevedore.cri.v1.ContainerConfig;
import io.stevedore.cri.v1.ContainerState;
import io.stevedore.cri.v1.ContainerStats;
import io.stevedore.cri.v1.ContainerStatsFilter;
import io.stevedore.cri.v1.LinuxPodSandboxStats;
import io.stevedore.cri.v1.PodSandboxAttributes;
import io.stevedore.cri.v1.PodSandboxConfig;
import io.stevedore.cri.v1.PodSandboxStats;
import io.stevedore.cri.v1.PodSandboxStatsFilter;
import io.stevedore.server.container.ContainerRecord;
import io.stevedore.server.container.ContainerService;
import io.stevedore.server.sandbox.SandboxRecord;
import io.stevedore.server.sandbox.SandboxService;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Container and pod stats from their cgroups, writable layers and network namespaces.
 *
 * <p>Each call first drops the CPU samples kept for containers and pods that no longer exist (the
 * kubelet lists stats every few seconds), so what {@link CriStats} keeps is bounded by what exists.
 */
public final class StatsService {
    private static final String POD = "pod:";

    private final SandboxService sandboxes;
    private final ContainerService containers;
    private final CgroupStats cgroups;
    private final CriStats cri;
    private final NetworkStats network = new NetworkStats(Duration.ofSeconds(2), InstantSource.system());
    private final MetricsService metrics;

    public StatsService(SandboxService sandboxes, ContainerService containers, CgroupStats cgroups) {
        this(sandboxes, containers, cgroups, new CriStats(InstantSource.system()));
    }

    StatsService(SandboxService sandboxes, ContainerService containers, CgroupStats cgroups, CriStats cri) {
        this.sandboxes = sandboxes;
        this.containers = containers;
        this.cgroups = cgroups;
        this.cri = cri;
        this.metrics =
                new MetricsService(sandboxes, containers, cgroups, network, Path.of("/proc"), InstantSource.system());
    }

    /** The same pods, containers and readers as cAdvisor metrics. */
    public MetricsService metrics() {
        return metrics;
    }

    /** Drops the samples of ids that no longer name a container or a pod. */
    private void prune() {
        Set<String> live = new HashSet<>();
        containers.records().forEach(r -> live.add(r.id()));
        sandboxes.records().forEach(r -> live.add(POD + r.id()));
        cri.retain(live::contains);
    }

    public ContainerStats container(String id) {
        prune();
        return stats(containers.record(id));
    }

    public List<ContainerStats> containers(ContainerStatsFilter f) {
        prune();
        return containers.records().stream()
                .filter(r -> f.getId().isEmpty() || r.id().startsWith(f.getId()))
                .filter(r -> f.getPodSandboxId().isEmpty() || r.sandboxId().startsWith(f.getPodSandboxId()))
                .filter(r -> r.status().state() != ContainerState.CONTAINER_EXITED)
                .map(this::stats)
                .filter(s -> s.getAttributes()
                        .getLabelsMap()
                        .entrySet()
                        .containsAll(f.getLabelSelectorMap().entrySet()))
                .toList();
    }

    public PodSandboxStats pod(String id) {
        prune();
        return stats(sandboxes.record(id));
    }

    public List<PodSandboxStats> pods(PodSandboxStatsFilter f) {
        prune();
        return sandboxes.records().stream()
                .filter(r -> f.getId().isEmpty() || r.id().startsWith(f.getId()))
                .filter(SandboxRecord::ready)
                .map(this::stats)
                .filter(s -> s.getAttributes()
                        .getLabelsMap()
                        .entrySet()
                        .containsAll(f.getLabelSelectorMap().entrySet()))
                .toList();
    }

    private ContainerStats stats(ContainerRecord r) {
        ContainerConfig cfg = r.criConfig();
        Optional<CgroupSample> sample = r.status().state() == ContainerState.CONTAINER_RUNNING
                        && !r.cgroupsPath().isEmpty()
                ? cgroups.read(r.cgroupsPath())
                : Optional.empty();
        Path upper = containers.upperDir(r.id());
        return ContainerStats.newBuilder()
                .setAttributes(ContainerAttributes.newBuilder()
                        .setId(r.id())
                        .setMetadata(cfg.getMetadata())
                        .putAllLabels(cfg.getLabelsMap())
                        .putAllAnnotations(cfg.getAnnotationsMap()))
                .setCpu(cri.cpu(r.id(), sample))
                .setMemory(cri.memory(sample))
                .setWritableLayer(DiskUsage.of(upper).toProto(java.time.Instant.now(), upper))
                .build();
    }

    private PodSandboxStats stats(SandboxRecord r) {
        PodSandboxConfig cfg = r.metadata().config();
        Optional<CgroupSample> sample = cgroups.read(r.cgroupParent());
        var linux = LinuxPodSandboxStats.newBuilder()
                .setCpu(cri.cpu(POD + r.id(), sample))
                .setMemory(cri.memory(sample));
        cri.process(sample).ifPresent(linux::setProcess);
        if (!r.netns().isEmpty() && r.ready()) {
            network.read(Path.of(r.netns())).ifPresent(linux::setNetwork);
        }
        containers.records().stream()
                .filter(c -> c.sandboxId().equals(r.id()))
                .filter(c -> c.status().state() == ContainerState.CONTAINER_RUNNING)
                .forEach(c -> linux.addContainers(stats(c)));
        return PodSandboxStats.newBuilder()
                .setAttributes(PodSandboxAttributes.newBuilder()
                        .setId(r.id())
                        .setMetadata(cfg.getMetadata())
                        .putAllLabels(cfg.getLabelsMap())
                        .putAllAnnotations(cfg.getAnnotationsMap()))
                .setLinux(linux)
                .build();
    }
}

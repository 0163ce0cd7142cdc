package io.stevedore.server.stats;

import static io.stevedore.server.stats.CadvisorMetric.*;

import io.stevedore.cri.v1.ContainerConfig;
import io.stevedore.cri.v1.ContainerMetrics;
import io.stevedore.cri.v1.ContainerState;
import io.stevedore.cri.v1.LinuxContainerResources;
import io.stevedore.cri.v1.MetricDescriptor;
import io.stevedore.cri.v1.PodSandboxMetadata;
import io.stevedore.cri.v1.PodSandboxMetrics;
import io.stevedore.server.container.ContainerRecord;
import io.stevedore.server.container.ContainerService;
import io.stevedore.server.sandbox.SandboxRecord;
import io.stevedore.server.sandbox.SandboxService;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ListMetricDescriptors} and {@code ListPodSandboxMetrics}: the cAdvisor metrics of every
 * ready pod and its running containers, as containerd's {@code list_pod_sandbox_metrics_linux.go}
 * gathers them. Pod level: the pod's network interfaces (none for a host-network pod, as
 * containerd). Container level: CPU, memory, block I/O and pids from its cgroup ({@link
 * CgroupMetrics}), descriptors of its processes, its writable layer, its requested resources.
 *
 * <p>Pods are read concurrently, one virtual thread each, at most {@link #MAX_CONCURRENT} at a
 * time across all calls (containerd: an errgroup limited to 10), and the whole list within {@link
 * #BUDGET}: a pod that fails or is not done by then is left out and logged, never failing the
 * call, as containerd does. A pod's network reader has its own timeout ({@link NetworkStats}).
 * Thread-safe.
 */
public final class MetricsService {
    static final int MAX_CONCURRENT = 4;
    static final Duration BUDGET = Duration.ofSeconds(10);

    private static final Logger log = LoggerFactory.getLogger(MetricsService.class);
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final SandboxService sandboxes;
    private final ContainerService containers;
    private final CgroupMetrics cgroups;
    private final NetworkStats network;
    private final Path proc;
    private final InstantSource clock;
    private final Semaphore permits = new Semaphore(MAX_CONCURRENT);

    MetricsService(
            SandboxService sandboxes,
            ContainerService containers,
            CgroupStats cgroups,
            NetworkStats network,
            Path proc,
            InstantSource clock) {
        this.sandboxes = sandboxes;
        this.containers = containers;
        this.cgroups = new CgroupMetrics(cgroups);
        this.network = network;
        this.proc = proc;
        this.clock = clock;
    }

    public List<MetricDescriptor> descriptors() {
        return CadvisorMetric.descriptors();
    }

    /** The metrics of each ready pod, in the order the store lists them. */
    public List<PodSandboxMetrics> list() {
        Map<String, List<ContainerRecord>> running = containers.records().stream()
                .filter(c -> c.status().state() == ContainerState.CONTAINER_RUNNING)
                .collect(Collectors.groupingBy(ContainerRecord::sandboxId));
        List<SandboxRecord> pods =
                sandboxes.records().stream().filter(SandboxRecord::ready).toList();
        ExecutorService exec = Executors.newThreadPerTaskExecutor(
                Thread.ofVirtual().name("pod-metrics-", 0).factory());
        try {
            List<Future<PodSandboxMetrics>> pending = new ArrayList<>();
            for (SandboxRecord pod : pods) {
                pending.add(exec.submit(() -> bounded(pod, running.getOrDefault(pod.id(), List.of()))));
            }
            long deadline = System.nanoTime() + BUDGET.toNanos();
            List<PodSandboxMetrics> out = new ArrayList<>();
            for (int i = 0; i < pending.size(); i++) {
                collect(pods.get(i).id(), pending.get(i), deadline).ifPresent(out::add);
            }
            return out;
        } finally {
            exec.shutdownNow(); // a reader past the budget ends on its own; its permit bounds the rest
        }
    }

    private PodSandboxMetrics bounded(SandboxRecord pod, List<ContainerRecord> running) throws InterruptedException {
        permits.acquire();
        try {
            return pod(pod, running);
        } finally {
            permits.release();
        }
    }

    private static Optional<PodSandboxMetrics> collect(String id, Future<PodSandboxMetrics> f, long deadline) {
        try {
            return Optional.of(f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            f.cancel(true);
            return Optional.empty();
        } catch (TimeoutException e) {
            f.cancel(true);
            log.atWarn().addKeyValue("podSandboxId", id).log("pod metrics: not read within {}", BUDGET);
            return Optional.empty();
        } catch (ExecutionException e) {
            log.atWarn().setCause(e.getCause()).addKeyValue("podSandboxId", id).log("pod metrics: not read");
            return Optional.empty();
        }
    }

    PodSandboxMetrics pod(SandboxRecord pod, List<ContainerRecord> running) {
        PodSandboxMetadata meta = pod.metadata().config().getMetadata();
        // pod-level series: no container and no image; the id is the sandbox's
        var batch = new MetricBatch(List.of(meta.getName(), meta.getNamespace(), "", pod.id(), ""), now());
        if (!pod.netns().isEmpty()) {
            network.counters(Path.of(pod.netns())).ifPresent(all -> all.forEach(c -> network(c, batch)));
        }
        var out = PodSandboxMetrics.newBuilder().setPodSandboxId(pod.id()).addAllMetrics(batch.metrics());
        for (ContainerRecord c : running) {
            try {
                out.addContainerMetrics(container(meta, c));
            } catch (RuntimeException e) {
                log.atWarn()
                        .setCause(e)
                        .addKeyValue("podSandboxId", pod.id())
                        .addKeyValue("containerId", c.id())
                        .log("container metrics: not read");
            }
        }
        return out.build();
    }

    private static void network(NetworkStats.InterfaceCounters c, MetricBatch out) {
        String i = c.name();
        out.add(NET_RX_BYTES, c.rxBytes(), i)
                .add(NET_RX_PACKETS, c.rxPackets(), i)
                .add(NET_RX_DROPPED, c.rxDropped(), i)
                .add(NET_RX_ERRORS, c.rxErrors(), i)
                .add(NET_TX_BYTES, c.txBytes(), i)
                .add(NET_TX_PACKETS, c.txPackets(), i)
                .add(NET_TX_DROPPED, c.txDropped(), i)
                .add(NET_TX_ERRORS, c.txErrors(), i);
    }

    ContainerMetrics container(PodSandboxMetadata pod, ContainerRecord c) {
        ContainerConfig cfg = c.criConfig();
        String image = c.imageName().isEmpty() ? cfg.getImage().getImage() : c.imageName();
        long now = now();
        var batch = new MetricBatch(
                List.of(pod.getName(), pod.getNamespace(), cfg.getMetadata().getName(), c.id(), image), now);
        batch.add(LAST_SEEN, now / NANOS_PER_SECOND).add(START_TIME, c.status().startedAt() / NANOS_PER_SECOND);
        if (!c.cgroupsPath().isEmpty() && cgroups.addTo(c.cgroupsPath(), batch)) {
            var d = ProcessDescriptors.count(proc, cgroups.pids(c.cgroupsPath()));
            batch.add(FILE_DESCRIPTORS, d.fds()).add(SOCKETS, d.sockets());
        }
        writableLayer(containers.upperDir(c.id()), batch);
        spec(cfg.getLinux().getResources(), batch);
        return ContainerMetrics.newBuilder()
                .setContainerId(c.id())
                .addAllMetrics(batch.metrics())
                .build();
    }

    /** The writable layer, labelled with its filesystem's device as cAdvisor labels the rootfs. */
    private static void writableLayer(Path upper, MetricBatch out) {
        if (!Files.isDirectory(upper)) return;
        DiskUsage used = DiskUsage.of(upper);
        try {
            FileStore store = Files.getFileStore(upper);
            out.add(FS_USAGE, used.bytes(), store.name()).add(FS_LIMIT, store.getTotalSpace(), store.name());
        } catch (IOException e) {
            out.add(FS_USAGE, used.bytes(), "/");
        }
    }

    /**
     * The requested resources. The memory limit is always sent, 0 meaning none, as cAdvisor's
     * {@code specMemoryValue} does; the others only when set.
     */
    private static void spec(LinuxContainerResources r, MetricBatch out) {
        out.add(SPEC_MEMORY_LIMIT, Math.max(0, r.getMemoryLimitInBytes()));
        if (r.getCpuPeriod() > 0) out.add(SPEC_CPU_PERIOD, r.getCpuPeriod());
        if (r.getCpuShares() > 0) out.add(SPEC_CPU_SHARES, r.getCpuShares());
        if (r.getMemorySwapLimitInBytes() > 0) out.add(SPEC_MEMORY_SWAP_LIMIT, r.getMemorySwapLimitInBytes());
    }

    private long now() {
        return CriStats.nanos(clock.instant());
    }
}

package io.stevedore.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.conformance.registry.BusyboxImage;
import io.stevedore.conformance.registry.TestImages;
import io.stevedore.conformance.registry.TestRegistry;
import io.stevedore.cri.v1.*;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 14, resize (KEP-1287): UpdateContainerResources of a created container is applied by its
 * start, and of a running one starts from the limits in force; UpdatePodSandboxResources sizes the
 * pod cgroup stevedore made ({@code /stevedore/<id>}) and leaves a kubelet-owned parent alone. Each
 * is read back from the cgroup files the kernel shows (cgroup v1 here: {@code memory.limit_in_bytes},
 * {@code cpu.cfs_quota_us}), found through {@code /proc/<pid>/cgroup}. Pods use the host's network.
 */
@RequiresRoot
class ResizeIT {
    static final Path CGROUPFS = Path.of("/sys/fs/cgroup");
    static final long MIB = 1 << 20;

    static Path dir;
    static TestRegistry registry;
    static DaemonProcess daemon;
    static CriClient client;
    static String image;
    static final List<String> pods = new ArrayList<>();

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory("sd-resize-");
        registry = TestRegistry.start();
        image = BusyboxImage.push(new TestImages(registry), "test/resize-busybox", "1")
                .reference();
        Path netd = Files.createDirectories(dir.resolve("net.d")); // empty: host-network pods only
        Path config = Files.writeString(dir.resolve("stevedore.toml"), "[cni]\nconf_dir = \"" + netd + "\"\n");
        daemon = DaemonProcess.start(dir.resolve("d"), "--config", config.toString());
        client = CriClient.connect(daemon.socket());
        client.images()
                .pullImage(PullImageRequest.newBuilder()
                        .setImage(ImageSpec.newBuilder().setImage(image))
                        .build());
    }

    @AfterEach
    void removePods() {
        for (PodSandbox p :
                rt().listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()) {
            rt().stopPodSandbox(StopPodSandboxRequest.newBuilder()
                    .setPodSandboxId(p.getId())
                    .build());
            rt().removePodSandbox(RemovePodSandboxRequest.newBuilder()
                    .setPodSandboxId(p.getId())
                    .build());
        }
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            if (client != null) client.close();
            if (daemon != null) assertEquals(0, daemon.terminate(), "daemon stops cleanly on SIGTERM");
            assertEquals(List.of(), PodContainerIT.mountsUnder(dir), "no mount outlives its pod");
            for (String pod : pods) {
                try (var hs = Files.list(CGROUPFS)) {
                    for (Path h : hs.toList()) {
                        assertFalse(Files.exists(h.resolve("stevedore").resolve(pod)), "pod cgroup left in " + h);
                    }
                }
            }
        } finally {
            if (daemon != null && daemon.process().isAlive()) daemon.terminate();
            if (registry != null) registry.close();
            LiveDaemon.deleteTree(dir);
        }
    }

    // ------------------------------------------------------------------ containers

    @Test
    void createdContainer_resized_startsWithTheNewLimits() throws Exception {
        var pod = runPod("created", "");
        String id = create(pod, limits(64 * MIB, 20_000));

        update(id, limits(96 * MIB, 30_000));
        start(id);

        Map<String, Path> cg = cgroupsOf(pid(id));
        assertEquals(96 * MIB, read(cg.get("memory"), "memory.limit_in_bytes"));
        assertEquals(30_000, read(cg.get("cpu"), "cpu.cfs_quota_us"));
        assertEquals(96 * MIB, status(id).getResources().getLinux().getMemoryLimitInBytes());
    }

    @Test
    void runningContainer_resizedTwice_theSecondKeepsTheFirst() throws Exception {
        var pod = runPod("running", "");
        String id = create(pod, limits(64 * MIB, 20_000));
        start(id);
        Map<String, Path> cg = cgroupsOf(pid(id));
        assertEquals(64 * MIB, read(cg.get("memory"), "memory.limit_in_bytes"));

        update(
                id,
                LinuxContainerResources.newBuilder()
                        .setMemoryLimitInBytes(128 * MIB)
                        .build());
        assertEquals(128 * MIB, read(cg.get("memory"), "memory.limit_in_bytes"));
        assertEquals(20_000, read(cg.get("cpu"), "cpu.cfs_quota_us"));

        update(
                id,
                LinuxContainerResources.newBuilder()
                        .setCpuQuota(40_000)
                        .setCpuPeriod(100_000)
                        .build());
        assertEquals(40_000, read(cg.get("cpu"), "cpu.cfs_quota_us"));
        assertEquals(128 * MIB, read(cg.get("memory"), "memory.limit_in_bytes"), "not the created 64 MiB");
        var reported = status(id).getResources().getLinux();
        assertEquals(128 * MIB, reported.getMemoryLimitInBytes());
        assertEquals(40_000, reported.getCpuQuota());
    }

    // ------------------------------------------------------------------ pods

    @Test
    void podWithItsOwnParent_resized_itsCgroupHasTheSumOfResourcesAndOverhead() throws Exception {
        var pod = runPod("own", "");
        String id = create(pod, LinuxContainerResources.getDefaultInstance());
        start(id);

        rt().updatePodSandboxResources(UpdatePodSandboxResourcesRequest.newBuilder()
                .setPodSandboxId(pod.id())
                .setOverhead(LinuxContainerResources.newBuilder()
                        .setMemoryLimitInBytes(16 * MIB)
                        .setCpuQuota(10_000))
                .setResources(LinuxContainerResources.newBuilder()
                        .setMemoryLimitInBytes(256 * MIB)
                        .setCpuQuota(200_000)
                        .setCpuPeriod(100_000)
                        .setCpuShares(1024))
                .build());

        Map<String, Path> cg = cgroupsOf(pid(id));
        Path podMemory = cg.get("memory").getParent();
        Path podCpu = cg.get("cpu").getParent();
        assertEquals(CGROUPFS.resolve("memory/stevedore/" + pod.id()), podMemory, "the container is in the pod's");
        assertEquals(272 * MIB, read(podMemory, "memory.limit_in_bytes"));
        assertEquals(210_000, read(podCpu, "cpu.cfs_quota_us"));
        assertEquals(100_000, read(podCpu, "cpu.cfs_period_us"));
        assertEquals(1024, read(podCpu, "cpu.shares"));
    }

    @Test
    void podInAKubeletParent_resized_isOnlyRecorded() {
        String parent = "/sdresize-" + UUID.randomUUID().toString().substring(0, 8);
        var pod = runPod("kubelet", parent);

        rt().updatePodSandboxResources(UpdatePodSandboxResourcesRequest.newBuilder()
                .setPodSandboxId(pod.id())
                .setResources(LinuxContainerResources.newBuilder().setMemoryLimitInBytes(256 * MIB))
                .build());

        assertFalse(Files.exists(CGROUPFS.resolve("memory").resolve(parent.substring(1))), "the kubelet's to size");
        assertEquals(
                PodSandboxState.SANDBOX_READY,
                rt().podSandboxStatus(PodSandboxStatusRequest.newBuilder()
                                .setPodSandboxId(pod.id())
                                .build())
                        .getStatus()
                        .getState());
    }

    // ------------------------------------------------------------------ helpers

    static LinuxContainerResources limits(long memory, long quota) {
        return LinuxContainerResources.newBuilder()
                .setMemoryLimitInBytes(memory)
                .setCpuQuota(quota)
                .setCpuPeriod(100_000)
                .build();
    }

    /** The container's cgroup directory per v1 controller ({@code cpu}, {@code memory}…). */
    static Map<String, Path> cgroupsOf(int pid) throws IOException {
        Map<String, Path> dirs = new HashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "cgroup"))) {
            String[] f = line.split(":", 3);
            if (f[1].isEmpty() || f[1].startsWith("name=")) continue;
            for (String controller : f[1].split(",")) {
                dirs.put(controller, CGROUPFS.resolve(f[1]).resolve(f[2].substring(1)));
            }
        }
        assertTrue(dirs.containsKey("memory") && dirs.containsKey("cpu"), "cgroup v1 expected: " + dirs);
        return dirs;
    }

    static long read(Path cgroup, String file) throws IOException {
        return Long.parseLong(Files.readString(cgroup.resolve(file)).strip());
    }

    static int pid(String id) {
        String info = rt().containerStatus(ContainerStatusRequest.newBuilder()
                        .setContainerId(id)
                        .setVerbose(true)
                        .build())
                .getInfoOrThrow("info");
        return Integer.parseInt(info.replaceAll("(?s).*\"pid\":(\\d+).*", "$1"));
    }

    static ContainerStatus status(String id) {
        return rt().containerStatus(
                        ContainerStatusRequest.newBuilder().setContainerId(id).build())
                .getStatus();
    }

    static void update(String id, LinuxContainerResources r) {
        rt().updateContainerResources(UpdateContainerResourcesRequest.newBuilder()
                .setContainerId(id)
                .setLinux(r)
                .build());
    }

    static void start(String id) {
        rt().startContainer(
                        StartContainerRequest.newBuilder().setContainerId(id).build());
    }

    static PodContainerIT.Pod runPod(String name, String cgroupParent) {
        var hostNetwork = NamespaceOption.newBuilder().setNetwork(NamespaceMode.NODE);
        var cfg = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder()
                        .setName(name)
                        .setNamespace("resize")
                        .setUid(UUID.randomUUID().toString()))
                .setLogDirectory(
                        dir.resolve("logs/" + name + "-" + UUID.randomUUID()).toString())
                .setLinux(LinuxPodSandboxConfig.newBuilder()
                        .setCgroupParent(cgroupParent)
                        .setSecurityContext(
                                LinuxSandboxSecurityContext.newBuilder().setNamespaceOptions(hostNetwork)))
                .build();
        var pod = new PodContainerIT.Pod(
                rt().runPodSandbox(
                                RunPodSandboxRequest.newBuilder().setConfig(cfg).build())
                        .getPodSandboxId(),
                cfg);
        pods.add(pod.id());
        return pod;
    }

    static String create(PodContainerIT.Pod pod, LinuxContainerResources resources) {
        return rt().createContainer(CreateContainerRequest.newBuilder()
                        .setPodSandboxId(pod.id())
                        .setConfig(ContainerConfig.newBuilder()
                                .setMetadata(ContainerMetadata.newBuilder().setName("c"))
                                .setImage(ImageSpec.newBuilder().setImage(image))
                                .addAllCommand(List.of("sleep", "3000"))
                                .setLogPath("c.log")
                                .setLinux(LinuxContainerConfig.newBuilder()
                                        .setResources(resources)
                                        .setSecurityContext(LinuxContainerSecurityContext.newBuilder()
                                                .setNamespaceOptions(NamespaceOption.newBuilder()
                                                        .setNetwork(NamespaceMode.NODE)))))
                        .setSandboxConfig(pod.config())
                        .build())
                .getContainerId();
    }

    static RuntimeServiceGrpc.RuntimeServiceBlockingStub rt() {
        return client.runtime().withDeadlineAfter(60, TimeUnit.SECONDS);
    }
}

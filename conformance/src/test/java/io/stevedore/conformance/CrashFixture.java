package io.stevedore.conformance;

import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.stevedore.cri.v1.*;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A daemon to kill and restart over the same state, on a bridge network of its own (issue 13's
 * crash tests): the workload's calls, the checks made after a restart (every container process is
 * listed with its true state) and the final removal and {@link LeakCensus}.
 */
final class CrashFixture implements AutoCloseable {
    /** The argument of every container's {@code sleep}: how the census finds the test's processes. */
    static final String MARKER = "86413";

    final Path dir;
    final BridgeNetwork net;
    final Path config;
    final LeakCensus census;
    private DaemonProcess daemon;
    private CriClient client;

    CrashFixture(Path dir, BridgeNetwork net) throws IOException {
        this.dir = dir;
        this.net = net;
        this.config = net.writeConfig(dir);
        this.census = new LeakCensus(dir.resolve("d"), net.name(), net.bridge(), LeakCensus.stevedoreCgroups(), MARKER);
    }

    /** Starts the daemon (with {@code env}, e.g. failpoints) and waits until it answers. */
    void start(Map<String, String> env) throws IOException {
        daemon = DaemonProcess.start(dir.resolve("d"), env, "--config", config.toString());
        client = CriClient.connect(daemon.socket());
    }

    /** The daemon's own end: its exit status once it has exited by itself (a failpoint's halt). */
    int awaitExit() throws InterruptedException {
        int code = daemon.awaitExit(Duration.ofSeconds(60));
        client.close();
        return code;
    }

    void kill() throws InterruptedException {
        daemon.process().destroyForcibly().waitFor();
        client.close();
    }

    int terminate() throws InterruptedException {
        client.close();
        return daemon.terminate();
    }

    boolean alive() {
        return daemon.process().isAlive();
    }

    String logText() {
        return daemon.logText();
    }

    RuntimeServiceGrpc.RuntimeServiceBlockingStub rt() {
        return client.runtime().withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    ImageServiceGrpc.ImageServiceBlockingStub images() {
        return client.images().withDeadlineAfter(120, TimeUnit.SECONDS);
    }

    /**
     * Runs a pod on the test's network. A pod that shares one PID namespace gets a pause with its
     * first such container.
     */
    PodSandboxConfig podConfig(String name, boolean sharedPid) {
        return PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder()
                        .setName(name)
                        .setNamespace("crash")
                        .setUid(UUID.randomUUID().toString()))
                .setLogDirectory(dir.resolve("logs").resolve(name).toString())
                .setLinux(LinuxPodSandboxConfig.newBuilder()
                        .setSecurityContext(LinuxSandboxSecurityContext.newBuilder()
                                .setNamespaceOptions(NamespaceOption.newBuilder()
                                        .setPid(sharedPid ? NamespaceMode.POD : NamespaceMode.CONTAINER))))
                .build();
    }

    String runPod(PodSandboxConfig cfg) {
        return rt().runPodSandbox(
                        RunPodSandboxRequest.newBuilder().setConfig(cfg).build())
                .getPodSandboxId();
    }

    String createSleeper(String podId, PodSandboxConfig pod, String name, String image) {
        var pid = pod.getLinux().getSecurityContext().getNamespaceOptions().getPid();
        return rt().createContainer(CreateContainerRequest.newBuilder()
                        .setPodSandboxId(podId)
                        .setSandboxConfig(pod)
                        .setConfig(ContainerConfig.newBuilder()
                                .setMetadata(ContainerMetadata.newBuilder().setName(name))
                                .setImage(ImageSpec.newBuilder().setImage(image))
                                .addAllCommand(List.of("sleep", MARKER))
                                .setLogPath(name + ".log")
                                .setLinux(LinuxContainerConfig.newBuilder()
                                        .setSecurityContext(LinuxContainerSecurityContext.newBuilder()
                                                .setNamespaceOptions(NamespaceOption.newBuilder()
                                                        .setPid(pid)))))
                        .build())
                .getContainerId();
    }

    void start(String containerId) {
        rt().startContainer(StartContainerRequest.newBuilder()
                .setContainerId(containerId)
                .build());
    }

    /** Waits until recovery has finished: the daemon answers instead of UNAVAILABLE. */
    void awaitServing() {
        await("recovery finished")
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(20))
                .ignoreException(StatusRuntimeException.class)
                .until(() -> rt().listPodSandbox(ListPodSandboxRequest.getDefaultInstance()) != null);
    }

    /** The ids of the containers listed RUNNING. */
    Set<String> running() {
        var out = new TreeSet<String>();
        for (var c :
                rt().listContainers(ListContainersRequest.getDefaultInstance()).getContainersList()) {
            if (c.getState() == ContainerState.CONTAINER_RUNNING) out.add(c.getId());
        }
        return out;
    }

    /**
     * Ghosts: the test's container processes that no container listed RUNNING accounts for (its
     * cgroup path ends with the container's id).
     */
    List<String> ghosts() {
        Set<String> running = running();
        var ghosts = new ArrayList<String>();
        for (String p : census.containerProcesses()) {
            String cgroup = LeakCensus.cgroupOf(Long.parseLong(p.substring(0, p.indexOf(' '))));
            if (running.stream().noneMatch(id -> cgroup.endsWith("/" + id))) ghosts.add(p + " in " + cgroup);
        }
        return ghosts;
    }

    /**
     * What the kubelet does to a node it drains: every pod stopped and removed (eight at a time, as
     * its workers would), then every image.
     */
    void removeEverything() {
        var pods =
                rt().listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList();
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(
                8, Thread.ofVirtual().factory())) {
            var removals = new ArrayList<java.util.concurrent.Future<?>>();
            for (var p : pods) {
                removals.add(pool.submit(() -> {
                    rt().stopPodSandbox(StopPodSandboxRequest.newBuilder()
                            .setPodSandboxId(p.getId())
                            .build());
                    rt().removePodSandbox(RemovePodSandboxRequest.newBuilder()
                            .setPodSandboxId(p.getId())
                            .build());
                }));
            }
            for (var r : removals) r.get(120, TimeUnit.SECONDS);
        } catch (InterruptedException
                | java.util.concurrent.ExecutionException
                | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("removing every pod: " + e, e);
        }
        for (var i : images().listImages(ListImagesRequest.getDefaultInstance()).getImagesList()) {
            images().removeImage(RemoveImageRequest.newBuilder()
                    .setImage(ImageSpec.newBuilder().setImage(i.getId()))
                    .build());
        }
    }

    /**
     * Leaks by kind, once the background removal of trash has had its time (it runs after the
     * calls return): waits until the census is clean or stops changing, then returns the last one.
     */
    Map<String, List<String>> leaks() {
        var last = new java.util.concurrent.atomic.AtomicReference<Map<String, List<String>>>();
        try {
            await("no leaks")
                    .atMost(Duration.ofSeconds(10))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> {
                        last.set(census.take());
                        return LeakCensus.counts(last.get()).isEmpty();
                    });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            // reported by the caller, with what is left
        }
        return last.get();
    }

    @SafeVarargs
    private static List<String> concat(List<String>... lists) {
        var out = new ArrayList<String>();
        for (var l : lists) out.addAll(l);
        return out;
    }

    static boolean isUnavailable(Throwable t) {
        return t instanceof StatusRuntimeException e
                && (e.getStatus().getCode() == Status.Code.UNAVAILABLE
                        || e.getStatus().getCode() == Status.Code.CANCELLED
                        || e.getStatus().getCode() == Status.Code.UNKNOWN
                        || e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED);
    }

    /** Last resort after a failed test: the daemon, then whatever its pods left on the machine. */
    @Override
    public void close() throws Exception {
        try {
            if (daemon != null && daemon.process().isAlive()) {
                try {
                    removeEverything();
                } catch (RuntimeException e) {
                    // reported by the test that failed
                }
                daemon.terminate();
            }
        } finally {
            if (client != null) client.close();
            var left = census.take();
            for (String p : concat(left.get("container processes"), left.get("pause processes"), left.get("shims"))) {
                PodContainerIT.run("kill", "-9", p.substring(0, p.indexOf(' ')));
            }
            for (String m : PodContainerIT.mountsUnder(dir).reversed()) PodContainerIT.run("umount", "-l", m);
            for (String c : new ArrayList<>(LeakCensus.stevedoreCgroups()).reversed()) {
                if (!census.cgroupsBefore().contains(c))
                    PodContainerIT.run("rmdir", Path.of("/sys/fs/cgroup", c).toString());
            }
            for (String e : left.get("CNI cache entries")) Files.deleteIfExists(Path.of("/var/lib/cni/results", e));
            net.remove();
            if (Boolean.getBoolean("crash.keep")) {
                System.out.println("kept for a look: " + dir);
            } else {
                LiveDaemon.deleteTree(dir);
            }
        }
    }
}

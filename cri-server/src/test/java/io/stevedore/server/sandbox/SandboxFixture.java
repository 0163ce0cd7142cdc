package io.stevedore.server.sandbox;

import io.stevedore.cri.v1.LinuxPodSandboxConfig;
import io.stevedore.cri.v1.LinuxSandboxSecurityContext;
import io.stevedore.cri.v1.NamespaceMode;
import io.stevedore.cri.v1.NamespaceOption;
import io.stevedore.cri.v1.PodSandboxConfig;
import io.stevedore.cri.v1.PodSandboxMetadata;
import io.stevedore.oci.runtime.OciRuntime;
import io.stevedore.server.events.LifecycleEvents;
import io.stevedore.server.host.Runtimes;
import io.stevedore.server.state.StateLayout;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * A sandbox service over recording fakes, with its state under a test's temporary directory: no
 * root, no namespaces, no mounts, no processes.
 */
final class SandboxFixture {
    static final Instant NOW = Instant.ofEpochSecond(1_700_000_000, 5);

    /** From {@link #NOW}, a millisecond later at each reading: pods are listed by creation time. */
    private final AtomicLong readings = new AtomicLong();

    private final InstantSource clock = () -> NOW.plusMillis(readings.getAndIncrement());

    final StateLayout layout;
    final Path stateDir;
    final Path runDir;
    final Path recordDir;
    final Path pinDir;
    final RecordingPinner pinner;
    final RecordingPodNetwork network = new RecordingPodNetwork();
    final RecordingPauseLauncher pause = new RecordingPauseLauncher();
    final RecordingPodCgroups cgroups = new RecordingPodCgroups();
    final RecordingMounts mounts = new RecordingMounts();
    final RecordingContainers containers = new RecordingContainers();
    /** Told of the pods' transitions by the services {@link #start} builds. */
    LifecycleEvents events = LifecycleEvents.NONE;

    SandboxFixture(Path tmp) {
        this.layout = new StateLayout(tmp.resolve("root"), tmp.resolve("run"));
        this.stateDir = layout.sandboxFiles();
        this.runDir = layout.sandboxRun();
        this.recordDir = layout.sandboxRecords();
        this.pinDir = layout.namespacePins();
        this.pinner = new RecordingPinner(pinDir);
    }

    /** A service as the daemon starts one: built, wired, recovered. */
    SandboxService start() throws IOException {
        return start(runtimes());
    }

    /** {@link #start()} with the given runtimes (a whole fake node shares them with containers). */
    SandboxService start(Runtimes runtimes) throws IOException {
        var service = new SandboxService(layout, pinner, network, pause, cgroups, runtimes, mounts, clock);
        service.setContainers(containers);
        service.setEvents(events);
        service.recover();
        return service;
    }

    /** A pod with its own network, IPC and UTS namespaces, and its containers' PID namespaces. */
    static PodSandboxConfig pod(String name) {
        return pod(
                name,
                NamespaceOption.newBuilder()
                        .setNetwork(NamespaceMode.POD)
                        .setIpc(NamespaceMode.POD)
                        .setPid(NamespaceMode.CONTAINER)
                        .build());
    }

    /** A pod whose containers share one PID namespace, held by a pause. */
    static PodSandboxConfig podSharingPid(String name) {
        return pod(name, NamespaceOption.newBuilder().setPid(NamespaceMode.POD).build());
    }

    /** A pod on the host's network and IPC: nothing to pin. */
    static PodSandboxConfig hostPod(String name) {
        return pod(
                name,
                NamespaceOption.newBuilder()
                        .setNetwork(NamespaceMode.NODE)
                        .setIpc(NamespaceMode.NODE)
                        .build());
    }

    private static PodSandboxConfig pod(String name, NamespaceOption ns) {
        return PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder()
                        .setName(name)
                        .setNamespace("default")
                        .setUid("uid-" + name)
                        .setAttempt(0))
                .setHostname(name)
                .putLabels("app", name)
                .setLinux(LinuxPodSandboxConfig.newBuilder()
                        .setSecurityContext(
                                LinuxSandboxSecurityContext.newBuilder().setNamespaceOptions(ns)))
                .build();
    }

    /** One handler, "runc", whose runtime the sandbox service never calls. */
    static Runtimes runtimes() {
        var unused = (OciRuntime) Proxy.newProxyInstance(
                OciRuntime.class.getClassLoader(), new Class<?>[] {OciRuntime.class}, (proxy, method, args) -> {
                    return switch (method.getName()) {
                        case "toString" -> "unused runtime";
                        case "hashCode" -> 0;
                        case "equals" -> proxy == args[0];
                        default -> throw new UnsupportedOperationException(method.getName());
                    };
                });
        return new Runtimes("runc", Map.of("runc", unused));
    }

    /**
     * A record as the daemon wrote it before format versions: one flat object, for the pod {@link
     * #pod pod("web")}, pinned under {@code pinDir}, with its shm under {@code runDir}.
     */
    static String unversionedRecord(String id, boolean ready, int pausePid, Path pinDir, Path runDir) {
        String cfg = Base64.getEncoder().encodeToString(pod("web").toByteArray());
        return """
                {"id":"%s","name":"web_default_uid-web_0","config":"%s","runtimeHandler":"runc",\
                "createdAt":1000,"ready":%s,"netns":"%s","ipcns":"%s","utsns":"%s","shm":"%s",\
                "pausePid":%d,"pauseStartTime":%d,"ip":"10.88.0.9","additionalIps":["fd00::9"],\
                "cgroupParent":"/stevedore/%s","ownCgroupParent":true}""".formatted(
                        id,
                        cfg,
                        ready,
                        pinDir.resolve("net").resolve(id),
                        pinDir.resolve("ipc").resolve(id),
                        pinDir.resolve("uts").resolve(id),
                        runDir.resolve(id).resolve("shm"),
                        pausePid,
                        pausePid == 0 ? 0 : 55,
                        id);
    }

    /** Everything a pod may still hold, on the fakes and on disk; empty when nothing is left. */
    List<String> leftovers() throws IOException {
        var left = new ArrayList<String>();
        pinner.held().forEach(id -> left.add("pins of " + id));
        network.attached().forEach(id -> left.add("network of " + id));
        pause.byPod().keySet().forEach(id -> left.add("pause of " + id));
        mounts.mounted().forEach(p -> left.add("mount " + p));
        for (Path dir : List.of(stateDir, runDir, recordDir)) {
            if (!Files.isDirectory(dir)) continue;
            try (Stream<Path> s = Files.list(dir)) {
                s.forEach(p -> left.add("file " + p));
            }
        }
        return left;
    }
}

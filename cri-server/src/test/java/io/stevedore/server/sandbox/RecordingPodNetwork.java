package io.stevedore.server.sandbox;

import io.stevedore.cri.v1.PodSandboxConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link PodNetwork} that attaches nothing: it records which pods are attached, and every ADD
 * and DEL. Either can be made to fail; a DEL can be held at a {@link Gate}.
 */
final class RecordingPodNetwork implements PodNetwork {
    private final Set<String> attached = ConcurrentHashMap.newKeySet();
    private final List<String> calls = new CopyOnWriteArrayList<>();
    /** The pods each CNI GC was told to keep. */
    final List<Set<String>> gcs = new CopyOnWriteArrayList<>();

    private final AtomicInteger nextIp = new AtomicInteger(2);
    volatile Throwable failAdd; // an Error too: a run must undo after one
    volatile RuntimeException failDel;
    volatile Gate delGate;

    @Override
    public List<String> setUp(String sandboxId, Path netns, PodSandboxConfig cfg) {
        calls.add("add " + sandboxId);
        Throwable fail = failAdd;
        if (fail instanceof RuntimeException e) throw e;
        if (fail instanceof Error e) throw e;
        attached.add(sandboxId);
        return List.of("10.88.0." + nextIp.getAndIncrement(), "fd00::1");
    }

    @Override
    public void tearDown(String sandboxId, Path netns, PodSandboxConfig cfg) {
        calls.add("del " + sandboxId);
        Gate gate = delGate;
        if (gate != null) gate.pass();
        if (failDel != null) throw failDel;
        attached.remove(sandboxId);
    }

    @Override
    public void collectGarbage(Set<String> keep) {
        gcs.add(Set.copyOf(keep));
        attached.retainAll(keep);
    }

    Set<String> attached() {
        return Set.copyOf(attached);
    }

    List<String> calls() {
        return List.copyOf(calls);
    }

    long count(String call) {
        return calls.stream().filter(call::equals).count();
    }
}

package io.stevedore.server.sandbox;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link PauseLauncher} that starts no process: it records which pods have a pause "running",
 * and every call. A start can be made to fail, or held at a {@link Gate}.
 */
final class RecordingPauseLauncher implements PauseLauncher {
    private final Map<String, Started> running = new ConcurrentHashMap<>();
    private final List<String> calls = new CopyOnWriteArrayList<>();
    private final AtomicInteger nextPid = new AtomicInteger(4000);
    volatile RuntimeException failStart;
    volatile Gate startGate;

    @Override
    public Started start(SandboxMetadata pod) {
        calls.add("start " + pod.id());
        Gate gate = startGate;
        if (gate != null) gate.pass();
        if (failStart != null) throw failStart;
        var started = new Started(nextPid.getAndIncrement(), 77);
        running.put(pod.id(), started);
        return started;
    }

    @Override
    public void stop(SandboxMetadata pod, Started pause) {
        calls.add("stop " + pod.id());
        running.remove(pod.id(), pause);
    }

    @Override
    public boolean isRunning(Started pause) {
        return running.containsValue(pause);
    }

    @Override
    public List<Started> running() {
        return List.copyOf(running.values());
    }

    @Override
    public void killStray(Started pause) {
        calls.add("kill stray " + pause.pid());
        running.values().remove(pause);
    }

    /** Pretends {@code pause} runs for {@code sandboxId} (a pod a test prepares on disk). */
    void hold(String sandboxId, Started pause) {
        running.put(sandboxId, pause);
    }

    Map<String, Started> byPod() {
        return Map.copyOf(running);
    }

    List<String> calls() {
        return List.copyOf(calls);
    }
}

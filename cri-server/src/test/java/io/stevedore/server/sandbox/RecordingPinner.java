package io.stevedore.server.sandbox;

import io.stevedore.shim.PinnedNamespaces;
import io.stevedore.shim.Pinns;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/** A {@link NamespacePinner} that pins nothing: it records which pods hold pins, and every call. */
final class RecordingPinner implements NamespacePinner {
    private final Path pinDir;
    private final Set<String> held = ConcurrentHashMap.newKeySet();
    private final List<String> calls = new CopyOnWriteArrayList<>();
    volatile RuntimeException failPin;

    RecordingPinner(Path pinDir) {
        this.pinDir = pinDir;
    }

    @Override
    public PinnedNamespaces pin(
            String sandboxId, Set<Pinns.Kind> kinds, Optional<String> hostname, Map<String, String> sysctls) {
        calls.add("pin " + sandboxId);
        if (failPin != null) throw failPin;
        held.add(sandboxId);
        return new PinnedNamespaces(
                kinds.contains(Pinns.Kind.NET) ? Optional.of(path(sandboxId, Pinns.Kind.NET)) : Optional.empty(),
                kinds.contains(Pinns.Kind.IPC) ? Optional.of(path(sandboxId, Pinns.Kind.IPC)) : Optional.empty(),
                kinds.contains(Pinns.Kind.UTS) ? Optional.of(path(sandboxId, Pinns.Kind.UTS)) : Optional.empty());
    }

    @Override
    public void release(String sandboxId) {
        calls.add("release " + sandboxId);
        held.remove(sandboxId);
    }

    @Override
    public boolean isPinned(Path pin) {
        return pin.startsWith(pinDir) && held.contains(pin.getFileName().toString());
    }

    @Override
    public Path netnsPin(String sandboxId) {
        return path(sandboxId, Pinns.Kind.NET);
    }

    @Override
    public Set<String> pinnedIds() {
        return Set.copyOf(held);
    }

    Path path(String sandboxId, Pinns.Kind kind) {
        return pinDir.resolve(kind.dirName()).resolve(sandboxId);
    }

    /** Pretends {@code sandboxId}'s namespaces are pinned (a pod a test prepares on disk). */
    void hold(String sandboxId) {
        held.add(sandboxId);
    }

    Set<String> held() {
        return Set.copyOf(held);
    }

    List<String> calls() {
        return List.copyOf(calls);
    }
}

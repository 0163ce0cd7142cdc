package io.stevedore.server.sandbox;

import io.stevedore.server.error.CriException;
import io.stevedore.shim.PinnedNamespaces;
import io.stevedore.shim.Pinns;
import io.stevedore.shim.PinnsException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** {@link NamespacePinner} through {@code stevedore-pinns}: one process per pin and per release. */
final class PinnsNamespacePinner implements NamespacePinner {
    private final Pinns pinns;

    PinnsNamespacePinner(Pinns pinns) {
        this.pinns = pinns;
    }

    @Override
    public PinnedNamespaces pin(
            String sandboxId, Set<Pinns.Kind> kinds, Optional<String> hostname, Map<String, String> sysctls) {
        try {
            return pinns.pin(sandboxId, kinds, hostname, sysctls);
        } catch (PinnsException e) {
            // stevedore-pinns checks the hostname and sysctls before it changes anything: a usage
            // error is the pod's, not the machine's.
            if (e.toolMessage().filter(m -> m.contains("usage")).isPresent()) {
                throw new CriException.InvalidArgument(e.getMessage());
            }
            throw new IllegalStateException(e.getMessage(), e);
        } catch (InterruptedException e) {
            throw interrupted("pin namespaces of sandbox \"" + sandboxId + "\"", e);
        }
    }

    @Override
    public void release(String sandboxId) {
        try {
            pinns.remove(sandboxId);
        } catch (PinnsException e) {
            throw new IllegalStateException(e.getMessage(), e);
        } catch (InterruptedException e) {
            throw interrupted("remove pinned namespaces of sandbox \"" + sandboxId + "\"", e);
        }
    }

    @Override
    public boolean isPinned(Path pin) {
        try {
            return pinns.isPinned(pin);
        } catch (IOException e) {
            return false; // mountinfo unreadable: as good as gone
        }
    }

    @Override
    public Path netnsPin(String sandboxId) {
        return pinns.pinPath(sandboxId, Pinns.Kind.NET);
    }

    @Override
    public Set<String> pinnedIds() {
        try {
            return pinns.pinnedIds();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("list pinned namespaces: " + e.getMessage(), e);
        }
    }

    private static CriException interrupted(String action, InterruptedException e) {
        Thread.currentThread().interrupt();
        return new CriException.Unavailable(action + ": interrupted", e);
    }
}

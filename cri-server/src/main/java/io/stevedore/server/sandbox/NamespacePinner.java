package io.stevedore.server.sandbox;

import io.stevedore.shim.PinnedNamespaces;
import io.stevedore.shim.Pinns;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Creates a pod's network, IPC and UTS namespaces and pins them, so that they outlive every
 * process in them and the OCI runtime and CNI can join them by path.
 */
public interface NamespacePinner {
    /**
     * Creates and pins the {@code kinds} namespaces of {@code sandboxId}, with the hostname (UTS)
     * and the namespaced sysctls set in them. On failure nothing is left pinned.
     *
     * @throws io.stevedore.server.error.CriException.InvalidArgument when the pod's hostname or
     *     sysctls are refused
     */
    PinnedNamespaces pin(
            String sandboxId, Set<Pinns.Kind> kinds, Optional<String> hostname, Map<String, String> sysctls);

    /** Unpins (and so frees) every namespace of {@code sandboxId}. Idempotent. */
    void release(String sandboxId);

    /** Whether {@code pin} still holds a namespace (it vanishes with a reboot, or a lost tmpfs). */
    boolean isPinned(Path pin);

    /** Where the network namespace of {@code sandboxId} is (or would be) pinned. */
    Path netnsPin(String sandboxId);

    /**
     * Every sandbox id with a pin of any kind, held or a leftover file: recovery releases those of
     * no pod.
     */
    Set<String> pinnedIds();
}

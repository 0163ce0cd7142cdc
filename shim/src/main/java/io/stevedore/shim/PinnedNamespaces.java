package io.stevedore.shim;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * The pins {@link Pinns#pin} made for one sandbox: for each namespace kind that was created, the
 * bind-mounted nsfs file to hand to the OCI runtime ({@code linux.namespaces[].path}) and to CNI
 * ({@code CNI_NETNS}).
 *
 * @param net the network namespace pin, {@code <pin dir>/net/<id>}
 * @param ipc the IPC namespace pin, {@code <pin dir>/ipc/<id>}
 * @param uts the UTS namespace pin, {@code <pin dir>/uts/<id>}
 */
public record PinnedNamespaces(Optional<Path> net, Optional<Path> ipc, Optional<Path> uts) {

    public PinnedNamespaces {
        Objects.requireNonNull(net, "net");
        Objects.requireNonNull(ipc, "ipc");
        Objects.requireNonNull(uts, "uts");
    }

    /** The pin of {@code kind}, if that namespace was created. */
    public Optional<Path> path(Pinns.Kind kind) {
        return switch (kind) {
            case NET -> net;
            case IPC -> ipc;
            case UTS -> uts;
        };
    }
}

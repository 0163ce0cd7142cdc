package io.stevedore.server.container;

import io.stevedore.oci.linux.Syscalls;
import io.stevedore.oci.runtime.OciRuntime;
import io.stevedore.server.container.checkpoint.Criu;
import io.stevedore.server.container.spec.ContainerSpecGenerator;
import io.stevedore.server.host.Runtimes;
import io.stevedore.server.state.StateLayout;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Objects;

/**
 * What every container operation shares: where a container's files live ({@link StateLayout}) and
 * the collaborators it asks. Built once by the composition root (tests: over fakes).
 */
public record ContainerEnv(
        StateLayout layout,
        Pods pods,
        ContainerImages images,
        Runtimes runtimes,
        Shims shims,
        Rootfs rootfs,
        ContainerSpecGenerator specs,
        ExecOutput execOutput,
        Syscalls sys,
        InstantSource clock,
        Criu criu) {
    public ContainerEnv {
        Objects.requireNonNull(layout, "layout");
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(criu, "criu");
    }

    /** {@code <root>/containers}: a writable layer per container ({@code <id>/upper}, {@code work}). */
    Path layers() {
        return layout.containerLayers();
    }

    /** {@code <run_root>/containers}: a bundle per container ({@code config.json}, {@code rootfs}). */
    Path bundles() {
        return layout.bundles();
    }

    /** Where shims write exit files. */
    Path exits() {
        return layout.exits();
    }

    Path bundle(String id) {
        return bundles().resolve(id);
    }

    Path layer(String id) {
        return layers().resolve(id);
    }

    /**
     * The shim's socket directory: short, because a socket path must fit in 108 bytes and the bundle
     * path with a 64-digit id does not leave room for {@code console.sock}.
     */
    Path shimDir(String id) {
        return shimSocketDir(layout.shimSockets(), id);
    }

    /** {@code <base>/<first 20 hex digits of the id>}. */
    public static Path shimSocketDir(Path base, String id) {
        return base.resolve(id.length() > 20 ? id.substring(0, 20) : id);
    }

    /** The runtime of the container's pod (its handler, even once the pod is no longer ready). */
    OciRuntime runtime(String sandboxId) {
        return runtimes.get(pods.runtimeHandler(sandboxId));
    }

    /** Now, in nanoseconds since the epoch, as records keep times. */
    long now() {
        var i = clock.instant();
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }
}

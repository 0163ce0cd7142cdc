package io.stevedore.server.container;

import io.stevedore.cri.v1.ContainerState;
import io.stevedore.cri.v1.LinuxContainerResources;
import io.stevedore.oci.runtime.OciRuntimeException;
import io.stevedore.oci.spec.Linux;
import io.stevedore.oci.spec.Resources;
import io.stevedore.oci.spec.Spec;
import io.stevedore.oci.spec.SpecJson;
import io.stevedore.server.container.spec.ContainerSpecGenerator;
import io.stevedore.server.error.CriException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * UpdateContainerResources, as containerd's {@code container_update_resources.go} does it. The
 * bundle's {@code config.json} is the container's current spec: an update reads it, merges the
 * request into its {@code linux.resources} ({@link ContainerSpecGenerator#updatedResources}) and
 * writes it back. So a created container's start applies the update, and a running container's
 * next update starts from the limits in force, not from those it was created with. A running
 * container then gets the new limits from {@code <runtime> update --resources -}; when that fails
 * while it still runs, the old {@code config.json} is put back and nothing is recorded. A container
 * that exited meanwhile keeps the new spec and record (containerd: "task exited already").
 *
 * <p>The CRI resources in force (the create's, each update merged in) are recorded in the
 * container's status, which ContainerStatus reports. The container is marked updating meanwhile
 * ({@link ContainerCell#beginUpdate}): a start waits for the update (so it reads the new bundle),
 * and an update waits for a start (so it sees RUNNING and reaches the runtime).
 */
final class ContainerUpdater {
    private final ContainerEnv env;
    private final ContainerStore store;
    /** The record, after applying an exit that already happened ({@code ContainerService#current}). */
    private final Function<ContainerCell, ContainerRecord> current;

    ContainerUpdater(ContainerEnv env, ContainerStore store, Function<ContainerCell, ContainerRecord> current) {
        this.env = env;
        this.store = store;
        this.current = current;
    }

    void update(ContainerCell c, LinuxContainerResources res) {
        c.beginUpdate();
        try {
            updateMarked(c, res);
        } finally {
            c.endUpdate();
        }
    }

    private void updateMarked(ContainerCell c, LinuxContainerResources res) {
        ContainerRecord r = current.apply(c);
        String id = r.id();
        boolean running = r.status().isRunning();
        if (!running && r.status().state() != ContainerState.CONTAINER_CREATED) {
            throw new CriException.FailedPrecondition("update container \"" + id + "\": container is not running");
        }
        Path config = env.bundle(id).resolve("config.json");
        Spec old = read(id, config);
        Linux linux = old.linux();
        if (linux == null) {
            throw new CriException.FailedPrecondition(
                    "update container \"" + id + "\": its config.json has no linux section");
        }
        Resources next = env.specs().updatedResources(linux.resources(), res);
        write(id, old.withLinux(linux.withResources(next)), config);
        if (running) {
            try {
                env.runtime(r.sandboxId()).update(id, next);
            } catch (OciRuntimeException e) {
                if (current.apply(c).status().isRunning()) {
                    var failed = new IllegalStateException("update container \"" + id + "\": " + e.runtimeMessage(), e);
                    restore(id, old, config, failed);
                    throw failed;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                var failed = new CriException.Unavailable("update container \"" + id + "\": interrupted", e);
                restore(id, old, config, failed);
                throw failed;
            }
        }
        var inForce = ContainerSpecGenerator.mergedCri(r.criConfig().getLinux().getResources(), res);
        c.update(s -> s.withResources(inForce.toByteArray()), store::persist);
    }

    private static Spec read(String id, Path config) {
        try {
            return SpecJson.read(config);
        } catch (IOException e) {
            throw new CriException.FailedPrecondition(
                    "update container \"" + id + "\": its bundle is unreadable: " + e.getMessage());
        }
    }

    private static void write(String id, Spec spec, Path config) {
        try {
            SpecJson.write(spec, config);
        } catch (IOException e) {
            throw new UncheckedIOException("update container \"" + id + "\": write " + config, e);
        }
    }

    /** Puts the spec in force back after a failed update; a failure to do so rides on the cause. */
    private static void restore(String id, Spec old, Path config, RuntimeException cause) {
        try {
            SpecJson.write(old, config);
        } catch (IOException e) {
            cause.addSuppressed(e);
        }
    }
}

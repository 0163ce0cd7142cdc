package io.stevedore.server.container;

import io.stevedore.oci.runtime.CheckpointOptions;
import io.stevedore.oci.runtime.ContainerIo;
import io.stevedore.oci.runtime.OciFeatures;
import io.stevedore.oci.runtime.OciRuntime;
import io.stevedore.oci.runtime.OciRuntimeException;
import io.stevedore.oci.runtime.OciState;
import io.stevedore.oci.spec.Resources;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * A runtime that records what it was asked; {@code kill} signals the fake shims' inits, {@code
 * start} and {@code update} may be made to fail, and each update's resources are kept. Creating
 * is the shim's business ({@link FakeShims}).
 */
final class FakeOciRuntime implements OciRuntime {
    final List<String> calls = Collections.synchronizedList(new ArrayList<>());
    private final FakeShims shims;
    /** When set, {@code start} fails with this message. */
    volatile String failStart;
    /** When set, {@code update} fails with this message. */
    volatile String failUpdate;
    /** The resources of each {@code update}, in order. */
    final List<Resources> updates = Collections.synchronizedList(new ArrayList<>());

    FakeOciRuntime(FakeShims shims) {
        this.shims = shims;
    }

    long count(String prefix) {
        synchronized (calls) {
            return calls.stream().filter(c -> c.startsWith(prefix)).count();
        }
    }

    @Override
    public Path binary() {
        return Path.of("/fake/runc");
    }

    @Override
    public Path root() {
        return Path.of("/fake/root");
    }

    @Override
    public void create(String id, Path bundle, Path pidFile, Optional<Path> consoleSocket, ContainerIo io) {
        throw new UnsupportedOperationException("the shim creates");
    }

    @Override
    public void start(String id) throws OciRuntimeException {
        calls.add("start " + id);
        String fail = failStart;
        if (fail != null) {
            throw new OciRuntimeException("fake", "start", id, fail, 1, null);
        }
    }

    @Override
    public Optional<OciState> state(String id) {
        FakeShims.Run run = shims.runs.get(id);
        if (run == null) return Optional.empty();
        boolean alive = run.init().isAlive();
        return Optional.of(new OciState(
                "1.0.2",
                id,
                alive ? OciState.Status.RUNNING : OciState.Status.STOPPED,
                alive ? (int) run.init().pid() : 0,
                Path.of("/fake/bundle"),
                null,
                null,
                null));
    }

    @Override
    public void kill(String id, int signal, boolean all) {
        calls.add("kill " + id + " " + signal);
        shims.signal(id, signal);
    }

    @Override
    public void delete(String id, boolean force) {
        calls.add("delete " + id);
    }

    @Override
    public void execDetached(String id, Path processJson, Path pidFile, Optional<Path> consoleSocket, ContainerIo io) {
        throw new UnsupportedOperationException();
    }

    @Override
    public Process exec(String id, Path processJson, Path pidFile, Optional<Path> consoleSocket) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void update(String id, Resources resources) throws OciRuntimeException {
        calls.add("update " + id);
        String fail = failUpdate;
        if (fail != null) {
            throw new OciRuntimeException("fake", "update", id, fail, 1, null);
        }
        updates.add(resources);
    }

    @Override
    public void pause(String id) {
        calls.add("pause " + id);
    }

    @Override
    public void resume(String id) {
        calls.add("resume " + id);
    }

    /** What {@code checkpoint} does after recording the call; default: writes one image file. */
    volatile CheckpointAction onCheckpoint = (id, opts) ->
            java.nio.file.Files.writeString(opts.imagePath().resolve("inventory.img"), "fake criu image of " + id);

    interface CheckpointAction {
        void run(String id, CheckpointOptions opts) throws Exception;
    }

    @Override
    public void checkpoint(String id, CheckpointOptions opts) throws OciRuntimeException, InterruptedException {
        calls.add("checkpoint " + id + (opts.leaveRunning() ? " --leave-running" : ""));
        try {
            onCheckpoint.run(id, opts);
        } catch (OciRuntimeException | InterruptedException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public List<OciState> list() {
        return List.of();
    }

    @Override
    public Optional<OciFeatures> features() {
        return Optional.empty();
    }
}

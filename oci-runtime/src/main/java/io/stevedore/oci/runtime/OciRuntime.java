package io.stevedore.oci.runtime;

import io.stevedore.oci.spec.Resources;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * An OCI runtime: creates, starts, signals, inspects and deletes containers from bundles. The
 * mechanism is {@link RuncCli} (any runtime with runc's command line: runc, crun…).
 *
 * <p>Implementations are thread-safe; calls on different containers may run concurrently, and
 * callers serialize calls on one container. Every call is bounded by a timeout, after which the
 * runtime process is killed and {@link OciRuntimeException.TimedOut} is thrown. Failures name the
 * action and container and carry the runtime's own message.
 *
 * {@snippet :
 * OciRuntime runc = new RuncCli("runc", Path.of("/run/stevedore/runc"), false);
 * runc.start("abc");
 * Optional<OciState> state = runc.state("abc");          // empty once deleted
 * runc.kill("abc", 15, false);
 * runc.delete("abc", true);                              // a missing container is fine
 * }
 */
public interface OciRuntime {
    /** The runtime's binary, for a monitor (the shim) that runs it itself. */
    Path binary();

    /** The runtime's state directory ({@code --root}), for a monitor that runs it itself. */
    Path root();

    /**
     * {@code create}: sets up the container from {@code bundle} and leaves its init waiting for
     * {@link #start}. The init inherits {@code io} unless the spec asks for a terminal, in which case
     * the runtime sends the pty master to {@code consoleSocket}.
     *
     * @param pidFile where the runtime writes the init's host pid
     */
    void create(String id, Path bundle, Path pidFile, Optional<Path> consoleSocket, ContainerIo io)
            throws OciRuntimeException, InterruptedException;

    /** {@code start}: runs the user process of a created container. */
    void start(String id) throws OciRuntimeException, InterruptedException;

    /** {@code state}; empty when the runtime does not know the container. */
    Optional<OciState> state(String id) throws OciRuntimeException, InterruptedException;

    /**
     * {@code kill}: sends {@code signal} to the init, or with {@code all} to every process of the
     * container.
     *
     * @throws OciRuntimeException.NotFound if there is no such container
     * @throws OciRuntimeException.NotRunning if it has already stopped
     */
    void kill(String id, int signal, boolean all) throws OciRuntimeException, InterruptedException;

    /**
     * {@code delete}: removes the container's runtime state and cgroup; with {@code force} a running
     * container is killed first. Idempotent: deleting a container the runtime does not know succeeds.
     */
    void delete(String id, boolean force) throws OciRuntimeException, InterruptedException;

    /**
     * {@code exec --detach}: starts {@code process.json} (a spec {@code process}) in the container and
     * returns once it runs; its host pid is written to {@code pidFile}.
     */
    void execDetached(String id, Path processJson, Path pidFile, Optional<Path> consoleSocket, ContainerIo io)
            throws OciRuntimeException, InterruptedException;

    /**
     * {@code exec} in the foreground, without a timeout: the returned process is the runtime's, its
     * stdio (pipes) is the exec'd process's, and its exit status is the exec'd process's, or that of
     * the runtime's own failure (the pid file is then absent). The caller waits for it.
     */
    java.lang.Process exec(String id, Path processJson, Path pidFile, Optional<Path> consoleSocket)
            throws OciRuntimeException;

    /** {@code update --resources -}: applies new cgroup limits to a running container. */
    void update(String id, Resources resources) throws OciRuntimeException, InterruptedException;

    /** {@code pause}: freezes every process of the container. */
    void pause(String id) throws OciRuntimeException, InterruptedException;

    /** {@code resume}: thaws a paused container. */
    void resume(String id) throws OciRuntimeException, InterruptedException;

    /**
     * {@code checkpoint}: CRIU dumps the container's processes into {@code opts.imagePath()} (its log,
     * {@code dump.log}, into {@code opts.workPath()}); with {@code leaveRunning} they continue, else
     * they are killed once dumped. Bounded by {@code opts.timeout()}, not the runtime's own timeout.
     *
     * @throws OciRuntimeException.NotFound if there is no such container
     * @throws OciRuntimeException.TimedOut if the dump did not finish in time (the runtime and CRIU
     *     were killed; the images are incomplete)
     */
    void checkpoint(String id, CheckpointOptions opts) throws OciRuntimeException, InterruptedException;

    /** {@code list}: every container under the runtime's root. */
    List<OciState> list() throws OciRuntimeException, InterruptedException;

    /** {@code features}; empty when the runtime is too old to have the command. */
    Optional<OciFeatures> features() throws OciRuntimeException, InterruptedException;
}

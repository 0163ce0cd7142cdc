package io.stevedore.server.sandbox;

import java.util.List;

/**
 * The pod's infra process: PID 1 of the pod's shared PID namespace, which exists only for pods
 * that share one (every other pod runs without a pause).
 */
public interface PauseLauncher {
    /** A started pause: its pid as the daemon sees it, and its start time, which tells it from a reused pid. */
    record Started(int pid, long startTime) {}

    /** Starts the pause of {@code pod} in its pinned namespaces; on failure nothing is left running. */
    Started start(SandboxMetadata pod);

    /**
     * Kills the pause (and so every process left in its PID namespace), waits until it is gone and
     * releases what it held. Idempotent; a pid whose start time no longer matches is left alone.
     */
    void stop(SandboxMetadata pod, Started pause);

    /** Whether {@code pause} is still that process, and has not exited. */
    boolean isRunning(Started pause);

    /**
     * Every pause of this daemon's that runs now, recorded by a pod or not: a start cut short by a
     * crash after the spawn leaves one no pod names.
     */
    List<Started> running();

    /** Kills a pause no pod names, and removes the cgroup it is in. Idempotent. */
    void killStray(Started pause);
}

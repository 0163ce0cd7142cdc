package io.stevedore.server.sandbox;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Objects;
import java.util.Optional;

/**
 * The part of a pod that changes: its state, its pause, and the operation running on it. Replaced
 * whole, only through the transitions below; {@link Sandbox} holds the current one. Every state
 * change of a pod is one of these methods, and each refuses to apply where the diagram has no
 * arrow (an {@link IllegalStateException}: a bug, not a request error).
 *
 * <pre>
 *                     RunPodSandbox: everything acquired
 *                                  │
 *                                  ▼
 *     pause started     ┌─────────────────────┐
 *     or failed;   ┌───▶│        READY        │
 *     resized      └────│                     │
 *                       └──┬───────────────┬──┘
 *          stop, remove:   │               │  lost: recovery found a pin or the pause gone;
 *          released        │               │  stop, remove: releaseFailed, part still held
 *                          │               ▼
 *                          │        ┌─────────────┐
 *                          │        │  NOTREADY   │───┐ stop, remove:
 *                          │        │             │◀──┘ releaseFailed; resized
 *                          │        └──────┬──────┘
 *                          │               │  stop, remove: released
 *                          ▼               ▼
 *                       ┌─────────────────────┐
 *                       │       STOPPED       │───┐ resized
 *                       │                     │◀──┘
 *                       └──────────┬──────────┘  holds nothing on the machine
 *                                  │  remove: removed
 *                                  ▼
 *                       ┌─────────────────────┐
 *                       │       REMOVED       │  gone from the store; never stored
 *                       └─────────────────────┘
 * </pre>
 *
 * An arrow marked "stop, remove" is taken by a stop (between {@code beginStop} and {@code
 * endStop}) or a remove (between {@code beginRemove} and {@code endRemove} or {@code removed}).
 * READY holds everything RunPodSandbox acquired; NOTREADY may still hold some of it (namespaces
 * that vanished under it, a network whose CNI DEL failed); STOPPED holds nothing on the machine
 * but its record and state directory. A resize (UpdatePodSandboxResources, between {@code
 * beginResize} and {@code resized} or {@code resizeFailed}) keeps the state and replaces the
 * pod's {@link PodResources}; only a READY pod's own cgroup is changed on the machine. The CRI
 * sees SANDBOX_READY only for READY with no stop or remove under way ({@link #isReady}), and
 * SANDBOX_NOTREADY for everything else.
 *
 * <p>The flags say which operation runs on the pod; they live in memory only, as containerd's
 * {@code Starting} and {@code Removing} do, since a daemon that restarts has no operation running.
 * At most one is set: an operation begins only on an idle pod, and a second one waits for the
 * first to end ({@link Sandbox#begin}) and then looks again, so a second stop finds the pod
 * STOPPED and a second remove finds it REMOVED.
 *
 * <pre>
 *   flag           set by            needs                              cleared by
 *   startingPause  beginPauseStart   idle, READY, no pause yet          pauseStarted, pauseStartFailed
 *   stopping       beginStop         idle, READY or NOTREADY            endStop
 *   removing       beginRemove       idle, not REMOVED                  endRemove, removed
 *   resizing       beginResize       idle, not REMOVED                  resized, resizeFailed
 * </pre>
 *
 * @param state where the pod is in the diagram
 * @param pausePid the pause holding the pod's shared PID namespace; 0 when there is none
 * @param pauseStartTime its start time (see {@code Procs}), which tells it from a reused pid
 * @param resources the overhead and resources of the last UpdatePodSandboxResources; null until
 *     then (the config's apply)
 * @param startingPause a container is starting the pod's pause
 * @param stopping a StopPodSandbox is under way
 * @param removing a RemovePodSandbox is under way
 * @param resizing an UpdatePodSandboxResources is under way
 */
public record SandboxStatus(
        State state,
        int pausePid,
        long pauseStartTime,
        @JsonInclude(JsonInclude.Include.NON_NULL) PodResources resources,
        @JsonIgnore boolean startingPause,
        @JsonIgnore boolean stopping,
        @JsonIgnore boolean removing,
        @JsonIgnore boolean resizing) {

    /** The states of the diagram. */
    public enum State {
        READY,
        NOTREADY,
        STOPPED,
        REMOVED
    }

    public SandboxStatus {
        Objects.requireNonNull(state, "state");
        if (pausePid <= 0) {
            pausePid = 0;
            pauseStartTime = 0;
        }
        if ((startingPause ? 1 : 0) + (stopping ? 1 : 0) + (removing ? 1 : 0) + (resizing ? 1 : 0) > 1) {
            throw new IllegalArgumentException(
                    "one operation at a time: " + startingPause + stopping + removing + resizing);
        }
    }

    /** A pod whose run has just acquired everything. */
    static SandboxStatus ready() {
        return new SandboxStatus(State.READY, 0, 0, null, false, false, false, false);
    }

    // ---------------------------------------------------------------- guards

    /** What the CRI calls SANDBOX_READY. */
    @JsonIgnore
    public boolean isReady() {
        return state == State.READY && !stopping && !removing;
    }

    /** Whether an operation runs on the pod. */
    @JsonIgnore
    public boolean isBusy() {
        return startingPause || stopping || removing || resizing;
    }

    boolean canStartPause() {
        return !isBusy() && state == State.READY && pausePid == 0;
    }

    boolean canStop() {
        return !isBusy() && (state == State.READY || state == State.NOTREADY);
    }

    boolean canRemove() {
        return !isBusy() && state != State.REMOVED;
    }

    boolean canResize() {
        return !isBusy() && state != State.REMOVED;
    }

    Optional<PauseLauncher.Started> pause() {
        return pausePid == 0 ? Optional.empty() : Optional.of(new PauseLauncher.Started(pausePid, pauseStartTime));
    }

    // ---------------------------------------------------------------- transitions

    SandboxStatus beginPauseStart() {
        require(canStartPause(), "begin starting the pause");
        return next(state, 0, 0, true, false, false);
    }

    SandboxStatus pauseStarted(PauseLauncher.Started pause) {
        require(startingPause, "record a started pause");
        return next(state, pause.pid(), pause.startTime(), false, false, false);
    }

    SandboxStatus pauseStartFailed() {
        require(startingPause, "record a failed pause start");
        return next(state, 0, 0, false, false, false);
    }

    SandboxStatus beginStop() {
        require(canStop(), "begin a stop");
        return next(state, pausePid, pauseStartTime, false, true, false);
    }

    SandboxStatus endStop() {
        require(stopping, "end a stop");
        return next(state, pausePid, pauseStartTime, false, false, false);
    }

    SandboxStatus beginRemove() {
        require(canRemove(), "begin a remove");
        return next(state, pausePid, pauseStartTime, false, false, true);
    }

    SandboxStatus endRemove() {
        require(removing, "end a remove");
        return next(state, pausePid, pauseStartTime, false, false, false);
    }

    /** Everything the pod held on the machine was given back. */
    SandboxStatus released() {
        require((stopping || removing) && state != State.REMOVED, "record a release");
        return next(State.STOPPED, 0, 0, false, stopping, removing);
    }

    /** Giving back failed part way; {@code pauseGone} says whether the pause is gone already. */
    SandboxStatus releaseFailed(boolean pauseGone) {
        require((stopping || removing) && state != State.REMOVED, "record a failed release");
        return pauseGone
                ? next(State.NOTREADY, 0, 0, false, stopping, removing)
                : next(State.NOTREADY, pausePid, pauseStartTime, false, stopping, removing);
    }

    SandboxStatus removed() {
        require(removing && state == State.STOPPED, "record a removal");
        return next(State.REMOVED, 0, 0, false, false, false);
    }

    /**
     * Recovery found the pod's namespaces or pause gone. The pause is kept: the stop that follows
     * still reaps it if it is a zombie of ours, and removes its cgroup.
     */
    SandboxStatus lost() {
        require(state == State.READY && !isBusy(), "mark a pod lost");
        return next(State.NOTREADY, pausePid, pauseStartTime, false, false, false);
    }

    SandboxStatus beginResize() {
        require(canResize(), "begin a resize");
        return withResizing(true);
    }

    /** The resize is done: {@code to} is now the pod's, on its cgroup where stevedore owns it. */
    SandboxStatus resized(PodResources to) {
        require(resizing, "record a resize");
        return new SandboxStatus(state, pausePid, pauseStartTime, to, false, false, false, false);
    }

    /** The resize failed part way: the pod keeps the resources it had (its cgroup may not). */
    SandboxStatus resizeFailed() {
        require(resizing, "record a failed resize");
        return withResizing(false);
    }

    /** The next status, with this one's resources and no resize under way. */
    private SandboxStatus next(
            State state, int pausePid, long pauseStartTime, boolean startingPause, boolean stopping, boolean removing) {
        return new SandboxStatus(state, pausePid, pauseStartTime, resources, startingPause, stopping, removing, false);
    }

    private SandboxStatus withResizing(boolean on) {
        return new SandboxStatus(state, pausePid, pauseStartTime, resources, false, false, false, on);
    }

    private void require(boolean allowed, String transition) {
        if (!allowed) throw new IllegalStateException("cannot " + transition + " of a pod that is " + this);
    }
}

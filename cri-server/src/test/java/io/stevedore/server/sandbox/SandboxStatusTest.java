package io.stevedore.server.sandbox;

import static io.stevedore.server.sandbox.SandboxStatus.State.NOTREADY;
import static io.stevedore.server.sandbox.SandboxStatus.State.READY;
import static io.stevedore.server.sandbox.SandboxStatus.State.REMOVED;
import static io.stevedore.server.sandbox.SandboxStatus.State.STOPPED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class SandboxStatusTest {
    private static final PauseLauncher.Started PAUSE = new PauseLauncher.Started(4242, 99);
    private static final SandboxStatus READY_POD = SandboxStatus.ready();
    private static final SandboxStatus WITH_PAUSE = READY_POD.beginPauseStart().pauseStarted(PAUSE);
    private static final PodResources RESOURCES = new PodResources(
            null,
            io.stevedore.cri.v1.LinuxContainerResources.newBuilder()
                    .setMemoryLimitInBytes(1 << 26)
                    .build());

    record Case(String desc, SandboxStatus from, UnaryOperator<SandboxStatus> transition, SandboxStatus to) {
        @Override
        public String toString() {
            return desc;
        }
    }

    private static SandboxStatus status(SandboxStatus.State state, int pid, boolean stopping, boolean removing) {
        return new SandboxStatus(state, pid, pid == 0 ? 0 : 99, null, false, stopping, removing, false);
    }

    static Stream<Case> allowed() {
        return Stream.of(
                new Case(
                        "pause start begins on a ready pod",
                        READY_POD,
                        SandboxStatus::beginPauseStart,
                        new SandboxStatus(READY, 0, 0, null, true, false, false, false)),
                new Case(
                        "a started pause is kept",
                        READY_POD.beginPauseStart(),
                        s -> s.pauseStarted(PAUSE),
                        status(READY, 4242, false, false)),
                new Case(
                        "a failed pause start leaves the pod ready",
                        READY_POD.beginPauseStart(),
                        SandboxStatus::pauseStartFailed,
                        READY_POD),
                new Case(
                        "stop begins on a ready pod",
                        WITH_PAUSE,
                        SandboxStatus::beginStop,
                        status(READY, 4242, true, false)),
                new Case(
                        "stop begins on a not-ready pod",
                        WITH_PAUSE.lost(),
                        SandboxStatus::beginStop,
                        status(NOTREADY, 4242, true, false)),
                new Case(
                        "a stop that released everything",
                        WITH_PAUSE.beginStop(),
                        s -> s.released().endStop(),
                        status(STOPPED, 0, false, false)),
                new Case(
                        "a stop that failed after the pause",
                        WITH_PAUSE.beginStop(),
                        s -> s.releaseFailed(true).endStop(),
                        status(NOTREADY, 0, false, false)),
                new Case(
                        "a stop that failed before the pause",
                        WITH_PAUSE.beginStop(),
                        s -> s.releaseFailed(false).endStop(),
                        status(NOTREADY, 4242, false, false)),
                new Case(
                        "a stop whose containers would not stop",
                        WITH_PAUSE.beginStop(),
                        SandboxStatus::endStop,
                        WITH_PAUSE),
                new Case(
                        "remove begins on a stopped pod",
                        status(STOPPED, 0, false, false),
                        SandboxStatus::beginRemove,
                        status(STOPPED, 0, false, true)),
                new Case(
                        "remove of a ready pod releases first",
                        WITH_PAUSE.beginRemove(),
                        SandboxStatus::released,
                        status(STOPPED, 0, false, true)),
                new Case(
                        "a removal",
                        status(STOPPED, 0, false, true),
                        SandboxStatus::removed,
                        status(REMOVED, 0, false, false)),
                new Case(
                        "a removal that failed keeps the pod stopped",
                        status(STOPPED, 0, false, true),
                        SandboxStatus::endRemove,
                        status(STOPPED, 0, false, false)),
                new Case(
                        "recovery finds a pod lost, and keeps its pause to reap",
                        WITH_PAUSE,
                        SandboxStatus::lost,
                        status(NOTREADY, 4242, false, false)),
                new Case(
                        "resize begins on a ready pod",
                        WITH_PAUSE,
                        SandboxStatus::beginResize,
                        new SandboxStatus(READY, 4242, 99, null, false, false, false, true)),
                new Case(
                        "a resize records the resources, keeping the state and the pause",
                        WITH_PAUSE.beginResize(),
                        s -> s.resized(RESOURCES),
                        new SandboxStatus(READY, 4242, 99, RESOURCES, false, false, false, false)),
                new Case(
                        "a failed resize keeps the resources the pod had",
                        WITH_PAUSE.beginResize().resized(RESOURCES).beginResize(),
                        SandboxStatus::resizeFailed,
                        new SandboxStatus(READY, 4242, 99, RESOURCES, false, false, false, false)),
                new Case(
                        "the resources outlive a stop",
                        WITH_PAUSE.beginResize().resized(RESOURCES).beginStop(),
                        s -> s.released().endStop(),
                        new SandboxStatus(STOPPED, 0, 0, RESOURCES, false, false, false, false)),
                new Case(
                        "a stopped pod is resized too (on record only)",
                        status(STOPPED, 0, false, false),
                        s -> s.beginResize().resized(RESOURCES),
                        new SandboxStatus(STOPPED, 0, 0, RESOURCES, false, false, false, false)));
    }

    @ParameterizedTest
    @MethodSource("allowed")
    void transition_allowed_givesTheNextStatus(Case c) {
        assertEquals(c.to(), c.transition().apply(c.from()));
    }

    record Refused(String desc, SandboxStatus from, UnaryOperator<SandboxStatus> transition) {
        @Override
        public String toString() {
            return desc;
        }
    }

    static Stream<Refused> refused() {
        var stopping = WITH_PAUSE.beginStop();
        var stopped = status(STOPPED, 0, false, false);
        var removed = status(REMOVED, 0, false, false);
        return Stream.of(
                new Refused("a second stop while one runs", stopping, SandboxStatus::beginStop),
                new Refused("a remove while a stop runs", stopping, SandboxStatus::beginRemove),
                new Refused("a pause start while a stop runs", stopping, SandboxStatus::beginPauseStart),
                new Refused("a stop while the pause starts", READY_POD.beginPauseStart(), SandboxStatus::beginStop),
                new Refused("a second pause", WITH_PAUSE, SandboxStatus::beginPauseStart),
                new Refused("a pause in a stopped pod", stopped, SandboxStatus::beginPauseStart),
                new Refused("a stop of a stopped pod", stopped, SandboxStatus::beginStop),
                new Refused("anything of a removed pod", removed, SandboxStatus::beginRemove),
                new Refused("a release with no stop or remove", WITH_PAUSE, SandboxStatus::released),
                new Refused("a removal before the release", WITH_PAUSE.beginRemove(), SandboxStatus::removed),
                new Refused("ending a stop that never began", WITH_PAUSE, SandboxStatus::endStop),
                new Refused("a lost pod that is not ready", stopped, SandboxStatus::lost),
                new Refused("a resize while a stop runs", stopping, SandboxStatus::beginResize),
                new Refused("a stop while a resize runs", WITH_PAUSE.beginResize(), SandboxStatus::beginStop),
                new Refused("a remove while a resize runs", WITH_PAUSE.beginResize(), SandboxStatus::beginRemove),
                new Refused("a resize of a removed pod", removed, SandboxStatus::beginResize),
                new Refused("recording a resize that never began", WITH_PAUSE, s -> s.resized(RESOURCES)));
    }

    @ParameterizedTest
    @MethodSource("refused")
    void transition_notInTheDiagram_isRefused(Refused c) {
        assertThrows(IllegalStateException.class, () -> c.transition().apply(c.from()));
    }

    @Test
    void isReady_stopOrRemoveUnderWay_isFalse() {
        assertTrue(WITH_PAUSE.isReady());
        assertTrue(READY_POD.beginPauseStart().isReady(), "a pause being started does not make the pod unready");
        assertFalse(WITH_PAUSE.beginStop().isReady());
        assertFalse(WITH_PAUSE.beginRemove().isReady());
        assertFalse(WITH_PAUSE.lost().isReady());
        assertTrue(WITH_PAUSE.beginResize().isReady(), "a resize does not make the pod unready");
    }

    @Test
    void constructor_twoOperationsAtOnce_isRefused() {
        assertThrows(
                IllegalArgumentException.class, () -> new SandboxStatus(READY, 0, 0, null, false, true, true, false));
    }
}

package io.stevedore.server.sandbox;

import static io.stevedore.server.sandbox.SandboxFixture.pod;
import static io.stevedore.server.sandbox.SandboxFixture.podSharingPid;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.stevedore.cri.v1.PodSandbox;
import io.stevedore.cri.v1.PodSandboxFilter;
import io.stevedore.cri.v1.PodSandboxState;
import io.stevedore.server.error.CriException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Operations on one pod at once: a slow step (held at a {@link Gate}) in one, while the others
 * run. No sleeps: the fakes say when a call has arrived, and Awaitility waits for it.
 */
class SandboxConcurrencyTest {
    private static final Duration AT_ONCE = Duration.ofSeconds(5);

    @TempDir
    Path tmp;

    private SandboxFixture f;
    private SandboxService pods;
    private final Gate gate = new Gate();

    @BeforeEach
    void start() throws Exception {
        f = new SandboxFixture(tmp);
        pods = f.start();
    }

    @AfterEach
    void openTheGate() {
        gate.open(); // a failed test must not leave a call held
    }

    /** A call on a thread of its own, whose state the test can watch. */
    private static final class Call<T> {
        final CompletableFuture<T> result = new CompletableFuture<>();
        final Thread thread;

        Call(String name, Callable<T> body) {
            thread = Thread.ofVirtual().name(name).start(() -> {
                try {
                    result.complete(body.call());
                } catch (Throwable t) {
                    result.completeExceptionally(t);
                }
            });
        }

        /** Waiting without a deadline: where an operation waits for the one before it to end. */
        boolean waitingForAnother() {
            return thread.getState() == Thread.State.WAITING;
        }

        T get() throws Exception {
            return result.get(10, TimeUnit.SECONDS);
        }
    }

    private PodSandboxState state(String id) {
        return pods.status(id).getState();
    }

    @Test
    void stop_twiceAtOnce_secondWaitsForTheFirstAndBothAnswerOk() throws Exception {
        String id = pods.run(pod("web"), "");
        f.network.delGate = gate;
        var first = new Call<>("stop-1", () -> pods.stop(id));
        await().atMost(AT_ONCE).until(gate::arrived);

        var second = new Call<>("stop-2", () -> pods.stop(id));
        await().atMost(AT_ONCE).until(second::waitingForAnother);
        assertFalse(second.result.isDone(), "a stop must not answer before the pod is stopped");
        gate.open();

        assertEquals(Optional.of(id), first.get());
        assertEquals(Optional.of(id), second.get());
        assertEquals(1, f.network.count("del " + id));
        assertEquals(List.of("pin " + id, "release " + id), f.pinner.calls());
        assertEquals(PodSandboxState.SANDBOX_NOTREADY, state(id));
    }

    @Test
    void remove_twiceAtOnce_secondWaitsForTheFirstAndBothAnswerOk() throws Exception {
        String id = pods.run(pod("web"), "");
        f.network.delGate = gate;
        var first = new Call<>("remove-1", () -> {
            pods.remove(id);
            return id;
        });
        await().atMost(AT_ONCE).until(gate::arrived);

        var second = new Call<>("remove-2", () -> {
            pods.remove(id);
            return id;
        });
        await().atMost(AT_ONCE).until(second::waitingForAnother);
        assertFalse(second.result.isDone());
        gate.open();

        first.get();
        second.get();
        assertEquals(1, f.network.count("del " + id));
        assertEquals(List.of(), f.leftovers());
        assertThrows(CriException.NotFound.class, () -> pods.status(id));
    }

    @Test
    void stopAndRemove_atOnce_bothAnswerOkAndThePodIsGone() throws Exception {
        String id = pods.run(pod("web"), "");
        f.network.delGate = gate;
        var stop = new Call<>("stop", () -> pods.stop(id));
        await().atMost(AT_ONCE).until(gate::arrived);

        var remove = new Call<>("remove", () -> {
            pods.remove(id);
            return id;
        });
        await().atMost(AT_ONCE).until(remove::waitingForAnother);
        gate.open();

        stop.get();
        remove.get();
        assertEquals(1, f.network.count("del " + id), "remove found the pod stopped");
        assertEquals(List.of(), f.leftovers());
    }

    @Test
    void statusAndList_duringASlowCniDel_answerAtOnceWithThePodNotReady() throws Exception {
        String id = pods.run(pod("web"), "");
        String other = pods.run(pod("other"), "");
        f.network.delGate = gate;
        var stop = new Call<>("stop", () -> pods.stop(id));
        await().atMost(AT_ONCE).until(gate::arrived);

        var status = assertTimeoutPreemptively(AT_ONCE, () -> pods.status(id));
        var all = assertTimeoutPreemptively(AT_ONCE, () -> pods.list(PodSandboxFilter.getDefaultInstance()));
        var verbose = assertTimeoutPreemptively(AT_ONCE, () -> pods.verboseInfo(id));

        assertEquals(PodSandboxState.SANDBOX_NOTREADY, status.getState());
        assertEquals(
                Map.of(id, PodSandboxState.SANDBOX_NOTREADY, other, PodSandboxState.SANDBOX_READY),
                all.stream().collect(java.util.stream.Collectors.toMap(PodSandbox::getId, PodSandbox::getState)));
        assertEquals(true, verbose.get("info").contains("\"processStatus\":\"stopped\""), verbose.toString());
        assertFalse(stop.result.isDone());
        gate.open();
        stop.get();
        assertEquals(PodSandboxState.SANDBOX_NOTREADY, state(id));
        assertEquals(PodSandboxState.SANDBOX_READY, state(other));
    }

    @Test
    void ready_duringAStop_isFailedPreconditionAtOnce() throws Exception {
        String id = pods.run(pod("web"), "");
        f.network.delGate = gate;
        var stop = new Call<>("stop", () -> pods.stop(id));
        await().atMost(AT_ONCE).until(gate::arrived);

        assertTimeoutPreemptively(
                AT_ONCE, () -> assertThrows(CriException.FailedPrecondition.class, () -> pods.ready(id, false)));

        gate.open();
        stop.get();
    }

    @Test
    void stop_whileThePauseStarts_waitsAndStopsThePauseToo() throws Exception {
        String id = pods.run(podSharingPid("db"), "");
        f.pause.startGate = gate;
        var container = new Call<>("create-container", () -> pods.ready(id, true));
        await().atMost(AT_ONCE).until(gate::arrived);

        var stop = new Call<>("stop", () -> pods.stop(id));
        await().atMost(AT_ONCE).until(stop::waitingForAnother);
        assertEquals(PodSandboxState.SANDBOX_READY, assertTimeoutPreemptively(AT_ONCE, () -> state(id)));
        gate.open();

        assertEquals(Optional.of(4000), container.get().context().sharedPidNsPid());
        stop.get();
        assertEquals(List.of("start " + id, "stop " + id), f.pause.calls());
        assertEquals(Map.of(), f.pause.byPod());
    }

    @Test
    void ready_twiceAtOnceInAPodSharingPid_startsOnePause() throws Exception {
        String id = pods.run(podSharingPid("db"), "");
        f.pause.startGate = gate;
        var first = new Call<>("container-1", () -> pods.ready(id, true));
        await().atMost(AT_ONCE).until(gate::arrived);

        var second = new Call<>("container-2", () -> pods.ready(id, true));
        await().atMost(AT_ONCE).until(second::waitingForAnother);
        gate.open();

        assertEquals(Optional.of(4000), first.get().context().sharedPidNsPid());
        assertEquals(Optional.of(4000), second.get().context().sharedPidNsPid());
        assertEquals(List.of("start " + id), f.pause.calls());
    }
}

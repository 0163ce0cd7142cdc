package io.stevedore.server.sandbox;

import static io.stevedore.server.sandbox.SandboxFixture.pod;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.stevedore.server.events.RecordingEvents;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which transitions a pod reports (as containerd does for a sandbox: its own id as the container
 * id), in which order, with which pod status.
 */
class SandboxEventsTest {
    @TempDir
    Path tmp;

    final RecordingEvents events = new RecordingEvents();
    SandboxService pods;

    @BeforeEach
    void start() throws Exception {
        var f = new SandboxFixture(tmp);
        f.events = events;
        pods = f.start();
    }

    @Test
    void runStopRemove_reportsCreatedStartedStoppedDeleted_once() {
        String id = pods.run(pod("web"), "");
        pods.run(pod("web"), ""); // a retry is the same pod: nothing new
        pods.stop(id);
        pods.stop(id);
        pods.remove(id);
        pods.remove(id);
        assertEquals(
                List.of(
                        id + ":CREATED:SANDBOX_READY",
                        id + ":STARTED:SANDBOX_READY",
                        id + ":STOPPED:SANDBOX_NOTREADY",
                        id + ":DELETED:SANDBOX_NOTREADY"),
                events.all());
    }

    @Test
    void removeOfAReadyPod_reportsItsStopFirst() {
        String id = pods.run(pod("web"), "");
        pods.remove(id);
        assertEquals(
                List.of(id + ":STOPPED:SANDBOX_NOTREADY", id + ":DELETED:SANDBOX_NOTREADY"),
                events.all().subList(2, 4));
    }
}

package io.stevedore.server.container;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.stevedore.server.events.RecordingEvents;
import io.stevedore.shim.ShimException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which transitions the container lifecycle reports, in which order, with which status. */
class ContainerEventsTest {
    @TempDir
    Path dir;

    final RecordingEvents events = new RecordingEvents();
    ContainerHarness h;

    @BeforeEach
    void start() throws IOException {
        h = new ContainerHarness(dir, null, events);
    }

    @AfterEach
    void stop() throws IOException {
        h.close();
    }

    @Test
    void createStartStopRemove_reportsEachTransitionOnce_inOrder() {
        String id = h.create("web");
        h.service.start(id);
        h.service.stop(id, 10);
        h.service.stop(id, 10); // idempotent: nothing more to report
        h.service.remove(id);
        h.service.remove(id);
        assertEquals(
                List.of(
                        id + ":CREATED:CONTAINER_CREATED",
                        id + ":STARTED:CONTAINER_RUNNING",
                        id + ":STOPPED:CONTAINER_EXITED",
                        id + ":DELETED"),
                events.of(id));
    }

    @Test
    void exitOfItsOwn_isReportedStopped() {
        h.shims.command = spec -> List.of("true");
        String id = h.create("quick");
        h.service.start(id);
        await().atMost(Duration.ofSeconds(10)).until(() -> events.of(id).size() == 3);
        assertEquals(id + ":STOPPED:CONTAINER_EXITED", events.of(id).get(2));
    }

    @Test
    void failedStart_isReportedStopped_neverStarted() {
        String id = h.create("web");
        h.shims.failNext = new ShimException("create failed", "exec: \"sleep\": not found", null);
        assertThrows(IllegalStateException.class, () -> h.service.start(id));
        assertEquals(List.of(id + ":CREATED:CONTAINER_CREATED", id + ":STOPPED:CONTAINER_EXITED"), events.of(id));
    }

    @Test
    void removeOfARunningContainer_reportsItsStopFirst() {
        String id = h.create("web");
        h.service.start(id);
        h.service.remove(id);
        assertEquals(
                List.of("STARTED", "STOPPED", "DELETED"), kinds(events.of(id).subList(1, 4)));
    }

    @Test
    void exitDuringAnOutage_isReportedByRecovery() throws Exception {
        String id = h.create("web");
        h.service.start(id);
        h.service.close(); // the daemon goes down; the container stays
        h.shims.runs.get(id).init().destroy();
        await().atMost(Duration.ofSeconds(5))
                .until(() -> Files.exists(h.env.exits().resolve(id)));
        h.service = null;
        h.open();
        assertEquals(id + ":STOPPED:CONTAINER_EXITED", events.of(id).getLast());
        assertEquals(3, events.of(id).size(), "recovery reports what changed, not what it loaded");
    }

    private static List<String> kinds(List<String> seen) {
        return seen.stream().map(s -> s.split(":")[1]).toList();
    }
}

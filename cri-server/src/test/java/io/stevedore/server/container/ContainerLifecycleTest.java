package io.stevedore.server.container;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.cri.v1.ContainerFilter;
import io.stevedore.cri.v1.ContainerState;
import io.stevedore.server.error.CriException;
import io.stevedore.shim.ShimException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container lifecycle over fakes ({@link ContainerHarness}): real unprivileged processes stand
 * for containers, so signals, exits and timing are real; nothing needs root.
 */
class ContainerLifecycleTest {
    /** Blocking calls run on virtual threads: the common pool is the JDK's for process exits. */
    static final java.util.concurrent.Executor VT = r -> Thread.ofVirtual().start(r);

    @TempDir
    Path dir;

    ContainerHarness h;

    @BeforeEach
    void start() throws IOException {
        h = new ContainerHarness(dir);
    }

    @AfterEach
    void stop() throws IOException {
        h.close();
    }

    ContainerService svc() {
        return h.service;
    }

    ContainerState state(String id) {
        return svc().status(id).getState();
    }

    @Test
    void createStartStop_aContainerHonouringSigterm_exitsWith143() {
        String id = h.create("web");
        assertEquals(ContainerState.CONTAINER_CREATED, state(id));
        svc().start(id);
        assertEquals(ContainerState.CONTAINER_RUNNING, state(id));
        svc().stop(id, 10);
        assertEquals(ContainerState.CONTAINER_EXITED, state(id));
        assertEquals(143, svc().status(id).getExitCode());
    }

    @Test
    void unknownIds_statusAndStartAreNotFound_stopAndRemoveAreOk() {
        assertThrows(CriException.NotFound.class, () -> svc().status("nope"));
        assertThrows(CriException.NotFound.class, () -> svc().start("nope"));
        assertThrows(CriException.NotFound.class, () -> svc().execSync("nope", List.of("true"), 1));
        assertThrows(CriException.NotFound.class, () -> svc().reopenLog("nope"));
        svc().stop("nope", 0);
        svc().remove("nope");
    }

    @Test
    void prefixes_aUniqueOneResolves_anAmbiguousOneIsInvalidArgument() {
        var ids = new ArrayList<String>();
        for (int i = 0; i < 17; i++) ids.add(h.create("c" + i)); // 17 ids: two share a first hex digit
        String id = ids.getFirst();
        assertEquals(id, svc().status(id.substring(0, 12)).getId());
        String shared = ids.stream()
                .map(s -> s.substring(0, 1))
                .filter(p -> ids.stream().filter(s -> s.startsWith(p)).count() > 1)
                .findFirst()
                .orElseThrow();
        assertThrows(CriException.InvalidArgument.class, () -> svc().status(shared));
        assertThrows(CriException.InvalidArgument.class, () -> svc().remove(shared));
    }

    @Test
    void create_retriedWithTheSameConfig_answersTheSameId_anotherConfigIsRefused() {
        String id = h.create("web");
        assertEquals(id, h.create("web"));
        var other = ContainerHarness.config("web", "sleep", "5");
        assertThrows(CriException.FailedPrecondition.class, () -> svc().create(ContainerHarness.POD, other));
        assertEquals(1, svc().list(ContainerFilter.getDefaultInstance()).size());
    }

    @Test
    void failedCreate_undoesTheMountTheBundleAndTheName() throws IOException {
        h.rootfs.failNext = new IOException("mount: no space left");
        assertThrows(IllegalStateException.class, () -> h.create("web"));
        assertEquals(List.of(), list(h.env.bundles()));
        assertEquals(List.of(), list(h.env.layers()));
        // A seccomp profile that is not there fails spec generation, after the mount.
        var bad = ContainerHarness.config("web", "sleep", "1").toBuilder();
        bad.getLinuxBuilder().getSecurityContextBuilder().setSeccompProfilePath("localhost//nonexistent.json");
        assertThrows(CriException.class, () -> svc().create(ContainerHarness.POD, bad.build()));
        assertEquals(Set(), h.rootfs.mounted);
        assertEquals(List.of(), list(h.env.bundles()));
        assertEquals(List.of(), list(h.env.layers()));
        h.create("web"); // the name was released
    }

    @Test
    void failedStart_inTheShim_isExitedWithStartError_andGivesBackWhatItHeld() throws IOException {
        String id = h.create("web");
        h.shims.failNext = new ShimException("create failed", "exec: \"sleep\": not found", null);
        var e = assertThrows(IllegalStateException.class, () -> svc().start(id));
        assertTrue(e.getMessage().contains("not found"), e.getMessage());
        var s = svc().status(id);
        assertEquals(ContainerState.CONTAINER_EXITED, s.getState());
        assertEquals("StartError", s.getReason());
        assertEquals(Set(), h.rootfs.mounted);
        assertEquals(1, h.runtime.count("delete " + id));
        svc().remove(id);
        assertEquals(List.of(), list(h.env.bundles()));
    }

    @Test
    void failedStart_inTheRuntime_killsTheInit_andRecordsTheError() {
        String id = h.create("web");
        h.runtime.failStart = "start: permission denied";
        assertThrows(IllegalStateException.class, () -> svc().start(id));
        assertEquals("StartError", svc().status(id).getReason());
        assertEquals(0, h.shims.alive(), "the init and the shim are gone");
        assertFalse(Files.exists(h.env.exits().resolve(id)), "its exit file was consumed");
    }

    @Test
    void startAndRemove_concurrently_theRemoveIsRefusedWhileStarting() throws Exception {
        String id = h.create("web");
        h.shims.gate = new CountDownLatch(1);
        var started = CompletableFuture.runAsync(() -> svc().start(id), VT);
        h.shims.entered.await();
        assertEquals(ContainerState.CONTAINER_CREATED, state(id), "status answers during the start");
        assertThrows(CriException.FailedPrecondition.class, () -> svc().remove(id));
        assertThrows(CriException.FailedPrecondition.class, () -> svc().start(id), "one start at a time");
        h.shims.gate.countDown();
        started.get();
        assertEquals(ContainerState.CONTAINER_RUNNING, state(id));
        svc().remove(id);
        assertThrows(CriException.NotFound.class, () -> svc().status(id));
    }

    @Test
    void stopAndStop_concurrently_bothReturn_andTheContainerExitsOnce() throws Exception {
        String id = h.create("web");
        svc().start(id);
        var a = CompletableFuture.runAsync(() -> svc().stop(id, 30), VT);
        var b = CompletableFuture.runAsync(() -> svc().stop(id, 30), VT);
        a.get();
        b.get();
        assertEquals(ContainerState.CONTAINER_EXITED, state(id));
    }

    @Test
    void removeAndRemove_concurrently_bothReturn_andNothingIsLeft() throws Exception {
        String id = h.create("web");
        svc().start(id);
        var a = CompletableFuture.runAsync(() -> svc().remove(id), VT);
        var b = CompletableFuture.runAsync(() -> svc().remove(id), VT);
        a.get();
        b.get();
        assertThrows(CriException.NotFound.class, () -> svc().status(id));
        assertEquals(Set(), h.rootfs.mounted);
        await().atMost(Duration.ofSeconds(10)).until(() -> h.shims.alive() == 0);
    }

    @Test
    void stopOfAContainerIgnoringSigterm_statusListAndASiblingsRemoval_answerWhileItWaits() throws Exception {
        h.shims.command = spec -> spec.containerId().equals(stubborn)
                ? List.of("sh", "-c", "trap '' TERM; while :; do sleep 0.1; done")
                : List.of("sleep", "100000");
        stubborn = h.create("stubborn");
        String sibling = h.create("sibling");
        svc().start(stubborn);
        await().atMost(Duration.ofSeconds(5)).until(() -> h.shims.runs.containsKey(stubborn));
        var order = new AtomicLong();
        var stopDone = new AtomicLong();
        var stop = CompletableFuture.runAsync(
                () -> {
                    svc().stop(stubborn, 3);
                    stopDone.set(order.incrementAndGet());
                },
                VT);
        // The stop is in its grace period once the SIGTERM is sent: the init ignores it and runs on.
        await().atMost(Duration.ofSeconds(5))
                .until(() -> svc().record(stubborn).status().isRunning());
        long statusDone = 0;
        for (int i = 0; i < 20; i++) {
            assertEquals(ContainerState.CONTAINER_RUNNING, state(stubborn), "the real state, during the grace period");
            statusDone = order.incrementAndGet();
        }
        assertEquals(2, svc().list(ContainerFilter.getDefaultInstance()).size());
        svc().remove(sibling);
        long removeDone = order.incrementAndGet();
        stop.get();
        assertTrue(statusDone < stopDone.get() && removeDone < stopDone.get(), "all answered before the stop returned");
        assertEquals(137, svc().status(stubborn).getExitCode(), "killed after the grace period");
    }

    private String stubborn = "";

    @Test
    void recovery_appliesExitsFromTheOutage_andNoticesDeadShims() throws Exception {
        String running = h.create("running");
        String exits = h.create("exits");
        String dies = h.create("dies");
        svc().start(running);
        svc().start(exits);
        svc().start(dies);
        h.service.close(); // the daemon goes down; the containers stay
        h.shims.runs.get(exits).init().destroy(); // exits with 143 during the outage
        h.shims.runs.get(dies).shim().destroyForcibly(); // its monitor dies without an exit file
        h.shims.runs.get(dies).init().destroyForcibly();
        await().atMost(Duration.ofSeconds(5))
                .until(() -> Files.exists(h.env.exits().resolve(exits)));
        Files.deleteIfExists(h.env.exits().resolve(dies));
        h.service = null;
        h.open();
        assertEquals(ContainerState.CONTAINER_RUNNING, state(running));
        assertEquals(143, svc().status(exits).getExitCode());
        assertEquals(ContainerState.CONTAINER_EXITED, state(dies));
        assertEquals(255, svc().status(dies).getExitCode());
    }

    @Test
    void recovery_aStartCutShortAfterTheShimRan_isRecordedAsStarted_notHidden() throws Exception {
        String id = h.create("web");
        svc().start(id);
        h.service.close(); // the daemon dies ...
        // ... before it stored the start: the record still says CREATED, the container runs.
        Path record = h.env.layout().containerRecords().resolve(id + ".json");
        var json = (com.fasterxml.jackson.databind.node.ObjectNode)
                new com.fasterxml.jackson.databind.ObjectMapper().readTree(record.toFile());
        var status = (com.fasterxml.jackson.databind.node.ObjectNode)
                json.get("record").get("status");
        status.put("state", "CONTAINER_CREATED").put("pid", 0).put("shimPid", 0).put("startedAt", 0);
        Files.writeString(record, json.toString());
        h.service = null;
        h.open();
        assertEquals(ContainerState.CONTAINER_RUNNING, state(id), "its process runs: listed as running");
        svc().stop(id, 10);
        assertEquals(143, svc().status(id).getExitCode());
    }

    @Test
    void recovery_readsARecordOfTheOlderFormat_andLeavesAnUnknownOneAndItsFilesAlone() throws Exception {
        String old = h.create("old");
        String future = h.create("future");
        h.service.close();
        Path meta = h.env.layout().containerRecords();
        // Format 1: the flat record, no version.
        var flat = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(meta.resolve(old + ".json").toFile());
        var inner = (com.fasterxml.jackson.databind.node.ObjectNode) flat.get("record");
        var legacy = ((com.fasterxml.jackson.databind.node.ObjectNode) inner.get("meta")).deepCopy();
        legacy.set("status", inner.get("status"));
        Files.writeString(meta.resolve(old + ".json"), legacy.toString());
        Files.writeString(
                meta.resolve(future + ".json"),
                Files.readString(meta.resolve(future + ".json")).replaceFirst("\"version\":3", "\"version\":99"));
        h.service = null;
        h.open();
        assertEquals(ContainerState.CONTAINER_CREATED, state(old));
        assertThrows(CriException.NotFound.class, () -> svc().status(future));
        assertTrue(Files.isDirectory(h.env.bundle(future)), "its bundle is kept");
        assertTrue(Files.isDirectory(h.env.layer(future)), "and its writable layer");
    }

    @Test
    void recovery_aCorruptRecordOfARunningContainer_isSetAside_andItsLayerAndProcessLiveOn() throws Exception {
        String id = h.create("torn");
        svc().start(id);
        h.service.close();
        h.service = null;
        Path meta = h.env.layout().containerRecords();
        Files.writeString(meta.resolve(id + ".json"), "{\"version\":3,\"record\":{\"meta\":"); // torn by a disk
        Files.writeString(h.env.layer(id).resolve("upper").resolve("data"), "the container's own");

        for (int start = 0; start < 2; start++) { // and at the next start too, with the record set aside
            h.open();
            assertThrows(CriException.NotFound.class, () -> svc().status(id));
            assertTrue(Files.exists(meta.resolve("unreadable").resolve(id + ".json")), "set aside for an operator");
            assertTrue(Files.exists(h.env.layer(id).resolve("upper").resolve("data")), "its writable layer is kept");
            assertTrue(Files.isDirectory(h.env.bundle(id)), "and its bundle");
        }
    }

    private static java.util.Set<Path> Set() {
        return java.util.Set.of();
    }

    private static List<Path> list(Path d) throws IOException {
        if (!Files.isDirectory(d)) return List.of();
        try (Stream<Path> s = Files.list(d)) {
            return s.toList();
        }
    }

    @Test
    void updateResources_ofACreatedContainer_isRemembered() {
        String id = h.create("web");
        var res = io.stevedore.cri.v1.LinuxContainerResources.newBuilder()
                .setCpuShares(512)
                .build();
        svc().updateResources(id, res);
        assertEquals(512, svc().status(id).getResources().getLinux().getCpuShares());
        assertNotEquals(0, svc().status(id).getCreatedAt());
    }
}

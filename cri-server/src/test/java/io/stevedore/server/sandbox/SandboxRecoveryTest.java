package io.stevedore.server.sandbox;

import static io.stevedore.server.sandbox.SandboxFixture.pod;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.stevedore.cri.v1.PodSandbox;
import io.stevedore.cri.v1.PodSandboxFilter;
import io.stevedore.cri.v1.PodSandboxState;
import io.stevedore.server.error.CriException;
import io.stevedore.server.state.RecordStore;
import io.stevedore.shim.Pinns;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Recovery from a state directory prepared as an earlier daemon (or a newer one) left it. */
class SandboxRecoveryTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String READY = "1".repeat(64);
    private static final String OTHER = "2".repeat(64);
    private static final PauseLauncher.Started PAUSE = new PauseLauncher.Started(4100, 55);

    @TempDir
    Path tmp;

    private SandboxFixture f;

    @BeforeEach
    void fixture() {
        f = new SandboxFixture(tmp);
    }

    /** The state and run directories of {@code id}, with its shm "mounted". */
    private void prepareDirs(String id) throws Exception {
        Files.createDirectories(f.stateDir.resolve(id));
        Files.writeString(f.stateDir.resolve(id).resolve("hosts"), "127.0.0.1\tlocalhost\n");
        Path shm = Files.createDirectories(f.runDir.resolve(id).resolve("shm"));
        f.mounts.mount("shm", shm, "tmpfs", 0, "");
    }

    /** A pod stored by this daemon's format, with its pins and pause as the fakes have them. */
    private void prepare(String id, SandboxStatus status) throws Exception {
        prepareDirs(id);
        var metadata = new SandboxMetadata(
                id,
                "web_default_uid-web_0",
                pod("web"),
                "runc",
                1000,
                f.pinner.path(id, Pinns.Kind.NET).toString(),
                f.pinner.path(id, Pinns.Kind.IPC).toString(),
                f.pinner.path(id, Pinns.Kind.UTS).toString(),
                f.runDir.resolve(id).resolve("shm").toString(),
                "10.88.0.9",
                List.of(),
                "/stevedore/" + id,
                true);
        new RecordStore<>(f.recordDir, SandboxRecord.class, SandboxRecord.VERSION, SandboxRecord::migrate)
                .put(id, new SandboxRecord(metadata, status));
    }

    private SandboxStatus stored(String id) throws Exception {
        return new RecordStore<>(f.recordDir, SandboxRecord.class, SandboxRecord.VERSION, SandboxRecord::migrate)
                .loadAll((p, e) -> {}).stream()
                        .filter(r -> r.id().equals(id))
                        .findFirst()
                        .orElseThrow()
                        .status();
    }

    private static SandboxStatus readyWithPause() {
        return SandboxStatus.ready().beginPauseStart().pauseStarted(PAUSE);
    }

    @Test
    void recover_readyPodWithItsPinsAndPause_staysReadyAndNothingIsReleased() throws Exception {
        prepare(READY, readyWithPause());
        f.pinner.hold(READY);
        f.pause.hold(READY, PAUSE);

        var pods = f.start();

        assertEquals(PodSandboxState.SANDBOX_READY, pods.status(READY).getState());
        assertEquals(List.of(), f.pinner.calls());
        assertEquals(List.of(), f.pause.calls());
        assertEquals(Set.of(f.runDir.resolve(READY).resolve("shm")), f.mounts.mounted());
        assertEquals(readyWithPause(), stored(READY));
    }

    @Test
    void recover_readyPodWhosePinsVanished_isStoredNotReadyAndItsStopReleasesTheRest() throws Exception {
        prepare(READY, readyWithPause());
        f.pause.hold(READY, PAUSE); // the pins are gone (a lost tmpfs); the pause still runs

        var pods = f.start();

        assertEquals(PodSandboxState.SANDBOX_NOTREADY, pods.status(READY).getState());
        assertEquals(SandboxStatus.State.NOTREADY, stored(READY).state());
        assertThrows(CriException.FailedPrecondition.class, () -> pods.ready(READY, false));
        pods.stop(READY);
        assertEquals(List.of("stop " + READY), f.pause.calls());
        assertEquals(List.of("del " + READY), f.network.calls());
        assertEquals(List.of("release " + READY), f.pinner.calls());
        assertEquals(Set.of(), f.mounts.mounted());
        assertEquals(SandboxStatus.State.STOPPED, stored(READY).state());
    }

    @Test
    void recover_readyPodWhosePauseDied_isNotReady() throws Exception {
        prepare(READY, readyWithPause());
        f.pinner.hold(READY);
        var events = new io.stevedore.server.events.RecordingEvents();
        f.events = events;

        var pods = f.start();

        assertEquals(PodSandboxState.SANDBOX_NOTREADY, pods.status(READY).getState());
        assertEquals(SandboxStatus.State.NOTREADY, stored(READY).state());
        assertEquals(List.of(READY + ":STOPPED:SANDBOX_NOTREADY"), events.all(), "reported for GetContainerEvents");
        pods.stop(READY);
        assertEquals(1, events.all().size(), "its stop was reported when it was found lost");
    }

    @Test
    void recover_unversionedRecord_loadsAndIsWrittenAnewOnItsNextChange() throws Exception {
        prepareDirs(READY);
        Files.createDirectories(f.recordDir);
        Files.writeString(
                f.recordDir.resolve(READY + ".json"),
                SandboxFixture.unversionedRecord(READY, true, 0, f.pinDir, f.runDir),
                java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE);
        f.pinner.hold(READY);

        var pods = f.start();

        var status = pods.status(READY);
        assertEquals(PodSandboxState.SANDBOX_READY, status.getState());
        assertEquals("10.88.0.9", status.getNetwork().getIp());
        assertEquals(1000, status.getCreatedAt());
        assertEquals(READY, pods.run(pod("web"), ""), "its name is reserved again: a retried run finds it");
        pods.stop(READY);
        var file = JSON.readTree(f.recordDir.resolve(READY + ".json").toFile());
        assertEquals(SandboxRecord.VERSION, file.get("version").asInt());
        assertEquals("STOPPED", file.get("record").get("status").get("state").asText());
        assertEquals(List.of("release " + READY), f.pinner.calls());
    }

    @Test
    void recover_recordOfANewerVersion_isNotServedAndEverythingOfItIsLeftInPlace() throws Exception {
        prepare(READY, readyWithPause());
        f.pinner.hold(READY);
        f.pause.hold(READY, PAUSE);
        prepareDirs(OTHER);
        f.pinner.hold(OTHER);
        Path newer = f.recordDir.resolve(OTHER + ".json");
        String written = "{\"version\":" + (SandboxRecord.VERSION + 1) + ",\"record\":{\"metadata\":{\"id\":\"" + OTHER
                + "\"},\"phase\":\"RUNNING\"}}";
        Files.writeString(newer, written);

        var pods = f.start();

        assertEquals(
                List.of(READY),
                pods.list(PodSandboxFilter.getDefaultInstance()).stream()
                        .map(PodSandbox::getId)
                        .toList());
        assertThrows(CriException.NotFound.class, () -> pods.status(OTHER));
        assertEquals(written, Files.readString(newer));
        assertTrue(Files.isRegularFile(f.stateDir.resolve(OTHER).resolve("hosts")));
        assertTrue(Files.isDirectory(f.runDir.resolve(OTHER).resolve("shm")));
        assertTrue(f.mounts.mounted().contains(f.runDir.resolve(OTHER).resolve("shm")));
        assertEquals(Set.of(READY, OTHER), f.pinner.held());
        assertEquals(List.of(), f.pinner.calls());
        pods.stop(OTHER); // unknown to this daemon: OK, and nothing of it is touched
        pods.remove(OTHER);
        assertEquals(Set.of(READY, OTHER), f.pinner.held());
        assertTrue(Files.exists(newer));
    }

    @Test
    void recover_corruptRecord_isSetAsideWithItsDirectoriesLeftInPlace() throws Exception {
        prepareDirs(OTHER);
        Path corrupt = f.recordDir.resolve(OTHER + ".json");
        Files.createDirectories(f.recordDir);
        Files.writeString(corrupt, "{\"id\":");

        var pods = f.start();

        assertEquals(List.of(), pods.list(PodSandboxFilter.getDefaultInstance()));
        assertFalse(Files.exists(corrupt));
        assertTrue(Files.exists(f.recordDir.resolve("unreadable").resolve(OTHER + ".json")), "set aside");
        assertTrue(Files.isDirectory(f.stateDir.resolve(OTHER)));
        assertTrue(Files.isDirectory(f.runDir.resolve(OTHER).resolve("shm")));
        assertTrue(f.mounts.mounted().contains(f.runDir.resolve(OTHER).resolve("shm")));
        assertEquals(List.of(), f.network.calls(), "its network is not touched");

        f.start(); // and at the next start, with the record no longer where records are

        assertTrue(Files.isDirectory(f.stateDir.resolve(OTHER)), "still left in place");
        assertTrue(f.mounts.mounted().contains(f.runDir.resolve(OTHER).resolve("shm")));
    }

    @Test
    void recover_directoriesOfNoPod_areRemoved() throws Exception {
        prepare(READY, SandboxStatus.ready());
        f.pinner.hold(READY);
        prepareDirs(OTHER); // a run cut short by a crash: directories, no record

        var pods = f.start();

        assertFalse(Files.exists(f.runDir.resolve(OTHER)));
        assertFalse(Files.exists(f.stateDir.resolve(OTHER)));
        assertEquals(Set.of(f.runDir.resolve(READY).resolve("shm")), f.mounts.mounted());
        assertTrue(Files.isDirectory(f.stateDir.resolve(READY)));
        assertEquals(PodSandboxState.SANDBOX_READY, pods.status(READY).getState());
        assertEquals(Map.of(), f.pause.byPod());
    }

    // ---------------------------------------------------------------- issue 13: what a crash left

    @Test
    void recover_runCutShortAfterCniAdd_givesBackItsNetworkPinsShmCgroupsAndDirectories() throws Exception {
        prepareDirs(OTHER); // the run wrote its config first, then acquired, then died before its record
        Files.write(
                f.stateDir.resolve(OTHER).resolve("run-config.pb"), pod("cut").toByteArray());
        f.pinner.hold(OTHER);
        f.network.setUp(OTHER, f.pinner.path(OTHER, Pinns.Kind.NET), pod("cut"));

        var pods = f.start();

        assertEquals(List.of(), pods.list(PodSandboxFilter.getDefaultInstance()));
        assertEquals(Set.of(), f.network.attached(), "CNI DEL with the run's config");
        assertTrue(f.network.calls().contains("del " + OTHER));
        assertEquals(Set.of(), f.pinner.held());
        assertEquals(Set.of(), f.mounts.mounted());
        assertTrue(
                f.cgroups.removed().containsAll(List.of("/stevedore/" + OTHER + "/" + OTHER, "/stevedore/" + OTHER)));
        assertFalse(Files.exists(f.stateDir.resolve(OTHER)));
        assertFalse(Files.exists(f.runDir.resolve(OTHER)));
    }

    @Test
    void recover_runCutShortBeforeItsConfigWasWritten_isGivenBackWithTheNetworksOwnDel() throws Exception {
        Files.createDirectories(f.stateDir.resolve(OTHER)); // died between its state directory and its config
        f.network.setUp(OTHER, f.pinner.path(OTHER, Pinns.Kind.NET), pod("cut"));

        f.start();

        assertEquals(Set.of(), f.network.attached());
        assertFalse(Files.exists(f.stateDir.resolve(OTHER)));
    }

    @Test
    void recover_pinsOfNoPod_areReleased() throws Exception {
        prepare(READY, SandboxStatus.ready());
        f.pinner.hold(READY);
        f.pinner.hold(OTHER); // pinned, and nothing else: no directory, no record

        f.start();

        assertEquals(Set.of(READY), f.pinner.held());
    }

    @Test
    void recover_pauseNoPodNames_isKilledAndTheRecordedOneIsKept() throws Exception {
        prepare(READY, readyWithPause());
        f.pinner.hold(READY);
        f.pause.hold(READY, PAUSE);
        var stray = new PauseLauncher.Started(4200, 66); // spawned by a start the crash cut short
        f.pause.hold(OTHER, stray);

        var pods = f.start();

        assertEquals(Map.of(READY, PAUSE), f.pause.byPod());
        assertTrue(f.pause.calls().contains("kill stray 4200"));
        assertEquals(PodSandboxState.SANDBOX_READY, pods.status(READY).getState());
    }

    @Test
    void recover_cniGc_keepsEveryPodThatMayHoldItsNetworkAndTheUnreadable() throws Exception {
        prepare(READY, SandboxStatus.ready());
        f.pinner.hold(READY);
        String stopped = "3".repeat(64);
        prepare(stopped, SandboxStatus.ready().beginStop().released().endStop());
        Files.writeString(f.recordDir.resolve(OTHER + ".json"), "{torn");

        f.start();

        assertEquals(List.of(Set.of(READY, OTHER)), f.network.gcs);
    }
}

package io.stevedore.server.sandbox;

import static io.stevedore.server.sandbox.SandboxFixture.hostPod;
import static io.stevedore.server.sandbox.SandboxFixture.pod;
import static io.stevedore.server.sandbox.SandboxFixture.podSharingPid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.cri.v1.PodIP;
import io.stevedore.cri.v1.PodSandbox;
import io.stevedore.cri.v1.PodSandboxFilter;
import io.stevedore.cri.v1.PodSandboxState;
import io.stevedore.cri.v1.PodSandboxStateValue;
import io.stevedore.oci.linux.SyscallException;
import io.stevedore.server.error.CriException;
import io.stevedore.server.state.RecordStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The pod lifecycle over recording fakes: what is acquired, what is given back, what is answered. */
class SandboxServiceTest {
    @TempDir
    Path tmp;

    private SandboxFixture f;
    private SandboxService pods;

    @BeforeEach
    void start() throws Exception {
        f = new SandboxFixture(tmp);
        pods = f.start();
    }

    private PodSandboxState state(String id) {
        return pods.status(id).getState();
    }

    private SandboxStatus stored(String id) throws Exception {
        var store = new RecordStore<>(f.recordDir, SandboxRecord.class, SandboxRecord.VERSION, SandboxRecord::migrate);
        return store
                .loadAll((p, e) -> {
                    throw new AssertionError(e);
                })
                .stream()
                .filter(r -> r.id().equals(id))
                .findFirst()
                .orElseThrow()
                .status();
    }

    // ---------------------------------------------------------------- run

    @Test
    void run_newPod_isReadyAndHoldsItsNamespacesNetworkAndShm() {
        String id = pods.run(pod("web"), "");

        var st = pods.status(id);
        assertEquals(PodSandboxState.SANDBOX_READY, st.getState());
        assertEquals("10.88.0.2", st.getNetwork().getIp());
        assertEquals(
                List.of("fd00::1"),
                st.getNetwork().getAdditionalIpsList().stream()
                        .map(PodIP::getIp)
                        .toList());
        assertEquals(1_700_000_000_000_000_005L, st.getCreatedAt());
        assertEquals("runc", st.getRuntimeHandler());
        assertEquals(java.util.Set.of(id), f.pinner.held());
        assertEquals(java.util.Set.of(id), f.network.attached());
        assertEquals(java.util.Set.of(f.runDir.resolve(id).resolve("shm")), f.mounts.mounted());
        assertTrue(Files.isRegularFile(f.stateDir.resolve(id).resolve("resolv.conf")));
    }

    @Test
    void run_retriedWithTheSameConfig_returnsTheSameIdAndAcquiresNothingMore() {
        String first = pods.run(pod("web"), "");

        String retried = pods.run(pod("web"), "runc");

        assertEquals(first, retried);
        assertEquals(List.of("pin " + first), f.pinner.calls());
        assertEquals(List.of("add " + first), f.network.calls());
    }

    @Test
    void run_sameNameOtherConfig_isFailedPrecondition() {
        String first = pods.run(pod("web"), "");

        var e = assertThrows(
                CriException.FailedPrecondition.class,
                () -> pods.run(pod("web").toBuilder().putLabels("v", "2").build(), ""));

        assertTrue(e.getMessage().contains("reserved for \"" + first + "\""), e.getMessage());
    }

    @Test
    void run_unknownHandler_isInvalidArgument() throws Exception {
        assertThrows(CriException.InvalidArgument.class, () -> pods.run(pod("web"), "kata"));
        assertEquals(List.of(), f.leftovers());
    }

    record Failure(String desc, BiConsumer<SandboxFixture, RuntimeException> arm, Class<? extends Throwable> thrown) {
        @Override
        public String toString() {
            return desc;
        }
    }

    static Stream<Failure> runFailures() {
        return Stream.of(
                new Failure("the pinner fails", (f, e) -> f.pinner.failPin = e, IllegalStateException.class),
                new Failure("CNI ADD fails", (f, e) -> f.network.failAdd = e, IllegalStateException.class),
                new Failure(
                        "the shm mount fails",
                        (f, e) -> f.mounts.failMount = new SyscallException("mount", "shm", 1),
                        java.io.UncheckedIOException.class),
                new Failure(
                        "the stack overflows in CNI ADD",
                        (f, e) -> f.network.failAdd = new StackOverflowError(),
                        StackOverflowError.class));
    }

    @ParameterizedTest
    @MethodSource("runFailures")
    void run_stepFails_givesBackEverythingItAcquired(Failure c) throws Exception {
        c.arm().accept(f, new IllegalStateException(c.desc()));

        assertThrows(c.thrown(), () -> pods.run(pod("web"), ""));

        assertEquals(List.of(), f.leftovers());
        assertEquals(List.of(), pods.list(PodSandboxFilter.getDefaultInstance()));
        f.pinner.failPin = null;
        f.network.failAdd = null;
        f.mounts.failMount = null;
        pods.run(pod("web"), ""); // the name was given back too
    }

    @Test
    void run_cniAddFails_delFollowsAndTheOwnCgroupGoes() {
        f.network.failAdd = new IllegalStateException("no IPs left");

        assertThrows(IllegalStateException.class, () -> pods.run(pod("web"), ""));

        String id = f.pinner.calls().getFirst().substring("pin ".length());
        assertEquals(List.of("add " + id, "del " + id), f.network.calls());
        assertEquals(List.of("pin " + id, "release " + id), f.pinner.calls());
        assertEquals(List.of("/stevedore/" + id), f.cgroups.removed());
    }

    @Test
    void run_sysctlThatWouldChangeTheHost_isInvalidArgumentAndLeavesNothing() throws Exception {
        var cfg = pod("web").toBuilder();
        cfg.getLinuxBuilder().putSysctls("kernel.panic", "1");

        assertThrows(CriException.InvalidArgument.class, () -> pods.run(cfg.build(), ""));

        assertEquals(List.of(), f.leftovers());
        assertEquals(List.of(), f.pinner.calls());
    }

    @Test
    void run_hostNetworkAndIpc_pinsNothingAndStopReleasesNothing() throws Exception {
        String id = pods.run(hostPod("node-agent"), "");

        pods.stop(id);

        assertEquals(List.of(), f.pinner.calls());
        assertEquals(List.of(), f.network.calls());
        assertEquals(java.util.Set.of(), f.mounts.mounted());
        assertEquals("", pods.status(id).getNetwork().getIp());
    }

    // ---------------------------------------------------------------- the pause (Pods.ready)

    @Test
    void ready_sharedPid_startsThePauseOnceAndHandsItsPid() {
        String id = pods.run(podSharingPid("db"), "");

        var first = pods.ready(id, true);
        var second = pods.ready(id, true);

        assertEquals(Optional.of(4000), first.context().sharedPidNsPid());
        assertEquals(Optional.of(4000), second.context().sharedPidNsPid());
        assertEquals(List.of("start " + id), f.pause.calls());
    }

    @Test
    void ready_pauseFails_podStaysReadyWithNothingRunning() {
        String id = pods.run(podSharingPid("db"), "");
        f.pause.failStart = new IllegalStateException("stevedore-pause --spawn exited 1");

        assertThrows(IllegalStateException.class, () -> pods.ready(id, true));

        assertEquals(Map.of(), f.pause.byPod());
        assertEquals(PodSandboxState.SANDBOX_READY, state(id));
        f.pause.failStart = null;
        assertEquals(Optional.of(4000), pods.ready(id, true).context().sharedPidNsPid());
    }

    @Test
    void ready_podWithoutSharedPid_startsNoPause() {
        String id = pods.run(pod("web"), "");

        assertEquals(Optional.empty(), pods.ready(id, true).context().sharedPidNsPid());
        assertEquals(List.of(), f.pause.calls());
    }

    // ---------------------------------------------------------------- stop and remove

    @Test
    void stop_readyPod_releasesEverythingButItsRecordAndFiles() throws Exception {
        String id = pods.run(podSharingPid("db"), "");
        pods.ready(id, true);

        assertEquals(Optional.of(id), pods.stop(id));

        assertEquals(PodSandboxState.SANDBOX_NOTREADY, state(id));
        assertEquals(SandboxStatus.State.STOPPED, stored(id).state());
        assertEquals(List.of("stopAll " + id), f.containers.calls());
        assertEquals(List.of("start " + id, "stop " + id), f.pause.calls());
        assertEquals(List.of("add " + id, "del " + id), f.network.calls());
        assertEquals(List.of("pin " + id, "release " + id), f.pinner.calls());
        assertEquals(
                List.of(
                        "file " + f.stateDir.resolve(id),
                        "file " + f.runDir.resolve(id),
                        "file " + f.recordDir.resolve(id + ".json")),
                f.leftovers());
    }

    @Test
    void stop_twice_releasesOnce() {
        String id = pods.run(pod("web"), "");
        pods.stop(id);

        pods.stop(id);

        assertEquals(1, f.network.count("del " + id));
        assertEquals(List.of("pin " + id, "release " + id), f.pinner.calls());
    }

    @Test
    void stop_containersWillNotStop_podKeepsEverything() {
        String id = pods.run(pod("web"), "");
        f.containers.failStopAll = new IllegalStateException("runc kill failed");

        assertThrows(IllegalStateException.class, () -> pods.stop(id));

        assertEquals(PodSandboxState.SANDBOX_READY, state(id));
        assertEquals(java.util.Set.of(id), f.network.attached());
        f.containers.failStopAll = null;
        pods.stop(id);
        assertEquals(PodSandboxState.SANDBOX_NOTREADY, state(id));
    }

    @Test
    void stop_cniDelFails_isStoredNotReadyAndTheNextStopReleasesTheRest() throws Exception {
        String id = pods.run(podSharingPid("db"), "");
        pods.ready(id, true);
        f.network.failDel = new IllegalStateException("bridge: DEL failed");

        assertThrows(IllegalStateException.class, () -> pods.stop(id));

        assertEquals(PodSandboxState.SANDBOX_NOTREADY, state(id));
        assertEquals(
                new SandboxStatus(SandboxStatus.State.NOTREADY, 0, 0, null, false, false, false, false), stored(id));
        assertEquals(Map.of(), f.pause.byPod(), "the pause went before CNI DEL");
        assertEquals(java.util.Set.of(id), f.pinner.held());
        f.network.failDel = null;
        pods.stop(id);
        assertEquals(SandboxStatus.State.STOPPED, stored(id).state());
        assertEquals(java.util.Set.of(), f.pinner.held());
        assertEquals(java.util.Set.of(), f.network.attached());
        assertEquals(
                1, f.pause.calls().stream().filter(c -> c.startsWith("stop")).count());
    }

    @Test
    void remove_readyPod_leavesNothingAndFreesTheName() throws Exception {
        String id = pods.run(pod("web"), "");

        pods.remove(id);

        assertEquals(List.of(), f.leftovers());
        assertEquals(List.of("stopAll " + id, "removeAll " + id), f.containers.calls());
        assertEquals(
                List.of("/stevedore/" + id + "/" + id, "/stevedore/" + id),
                f.cgroups.removed(),
                "its own cgroup, and below it the pause's, which a pause cut short in its join may leave");
        assertThrows(CriException.NotFound.class, () -> pods.status(id));
        assertNotEquals(id, pods.run(pod("web"), ""));
    }

    @Test
    void remove_stoppedPod_releasesNothingAgain() throws Exception {
        String id = pods.run(pod("web"), "");
        pods.stop(id);

        pods.remove(id);

        assertEquals(1, f.network.count("del " + id));
        assertEquals(List.of(), f.leftovers());
    }

    @Test
    void remove_twice_isOk() throws Exception {
        String id = pods.run(pod("web"), "");
        pods.remove(id);

        pods.remove(id);

        assertEquals(List.of(), f.leftovers());
    }

    // ---------------------------------------------------------------- ids

    record IdCase(String desc, BiConsumer<SandboxService, String> call) {
        @Override
        public String toString() {
            return desc;
        }
    }

    static Stream<IdCase> byId() {
        return Stream.of(
                new IdCase("stop", SandboxService::stop),
                new IdCase("remove", SandboxService::remove),
                new IdCase("status", SandboxService::status));
    }

    @Test
    void stop_unknownId_isOkAndNamesNoPod() {
        assertEquals(Optional.empty(), pods.stop("f".repeat(64)));
    }

    @Test
    void remove_unknownId_isOk() {
        pods.remove("f".repeat(64));
    }

    @Test
    void status_unknownId_isNotFound() {
        assertThrows(CriException.NotFound.class, () -> pods.status("f".repeat(64)));
    }

    @ParameterizedTest
    @MethodSource("byId")
    void byId_emptyId_isInvalidArgument(IdCase c) {
        assertThrows(CriException.InvalidArgument.class, () -> c.call().accept(pods, ""));
    }

    @ParameterizedTest
    @MethodSource("byId")
    void byId_uniquePrefix_namesThePod(IdCase c) {
        String id = pods.run(pod("web"), "");

        c.call().accept(pods, id.substring(0, 12));

        switch (c.desc()) {
            case "stop" -> assertEquals(PodSandboxState.SANDBOX_NOTREADY, state(id));
            case "remove" -> assertThrows(CriException.NotFound.class, () -> pods.status(id));
            default -> assertEquals(PodSandboxState.SANDBOX_READY, state(id));
        }
    }

    @ParameterizedTest
    @MethodSource("byId")
    void byId_ambiguousPrefix_isInvalidArgumentAndTouchesNoPod(IdCase c) {
        // Ids are random: of 17 pods, two share their first hex digit.
        Map<Character, String> byFirst = new HashMap<>();
        String prefix = null;
        for (int i = 0; prefix == null; i++) {
            String id = pods.run(pod("p" + i), "");
            if (byFirst.putIfAbsent(id.charAt(0), id) != null) prefix = id.substring(0, 1);
        }
        String shared = prefix;

        var e = assertThrows(CriException.InvalidArgument.class, () -> c.call().accept(pods, shared));

        assertTrue(e.getMessage().contains("ambiguous"), e.getMessage());
        assertTrue(f.network.calls().stream().noneMatch(call -> call.startsWith("del")));
    }

    // ---------------------------------------------------------------- list

    @Test
    void list_filters_byIdPrefixStateAndLabels() {
        String web = pods.run(pod("web"), "");
        String db = pods.run(pod("db"), "");
        pods.stop(db);

        assertEquals(List.of(web, db), ids(PodSandboxFilter.getDefaultInstance()));
        assertEquals(List.of(web), ids(filterState(PodSandboxState.SANDBOX_READY)));
        assertEquals(List.of(db), ids(filterState(PodSandboxState.SANDBOX_NOTREADY)));
        assertEquals(
                List.of(db),
                ids(PodSandboxFilter.newBuilder().setId(db.substring(0, 10)).build()));
        assertEquals(
                List.of(web),
                ids(PodSandboxFilter.newBuilder().putLabelSelector("app", "web").build()));
    }

    private static PodSandboxFilter filterState(PodSandboxState s) {
        return PodSandboxFilter.newBuilder()
                .setState(PodSandboxStateValue.newBuilder().setState(s))
                .build();
    }

    private List<String> ids(PodSandboxFilter filter) {
        return pods.list(filter).stream().map(PodSandbox::getId).toList();
    }
}

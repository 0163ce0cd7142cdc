package io.stevedore.server.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stevedore.cri.v1.PodSandboxConfig;
import io.stevedore.server.state.RecordStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SandboxRecordTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ID = "a".repeat(64);

    @TempDir
    Path dir;

    private RecordStore<SandboxRecord> store() throws Exception {
        return new RecordStore<>(dir, SandboxRecord.class, SandboxRecord.VERSION, SandboxRecord::migrate);
    }

    private static SandboxMetadata metadata() {
        return new SandboxMetadata(
                ID,
                "web_default_uid-web_0",
                SandboxFixture.pod("web"),
                "runc",
                1_700_000_000_000_000_005L,
                "/run/stevedore/ns/net/" + ID,
                "/run/stevedore/ns/ipc/" + ID,
                "/run/stevedore/ns/uts/" + ID,
                "/run/stevedore/sandboxes/" + ID + "/shm",
                "10.88.0.2",
                List.of("fd00::2"),
                "/stevedore/" + ID,
                true);
    }

    private static String flatRecord(String id, boolean ready, int pausePid) {
        return SandboxFixture.unversionedRecord(
                id, ready, pausePid, Path.of("/run/stevedore/ns"), Path.of("/run/stevedore/sandboxes"));
    }

    @Test
    void put_thenLoad_roundTripsMetadataAndStoredStatus() throws Exception {
        var status = SandboxStatus.ready().beginPauseStart().pauseStarted(new PauseLauncher.Started(42, 7));
        var store = store();

        store.put(ID, new SandboxRecord(metadata(), status));

        assertEquals(List.of(new SandboxRecord(metadata(), status)), store.loadAll((p, e) -> {}));
    }

    @Test
    void put_operationUnderWay_flagsAreNotStored() throws Exception {
        var store = store();

        store.put(ID, new SandboxRecord(metadata(), SandboxStatus.ready().beginStop()));

        JsonNode file = JSON.readTree(dir.resolve(ID + ".json").toFile());
        assertEquals(4, file.get("version").asInt());
        assertEquals(List.of("metadata", "status"), fields(file.get("record")));
        assertEquals(
                List.of(
                        "id",
                        "name",
                        "config",
                        "runtimeHandler",
                        "createdAt",
                        "netns",
                        "ipcns",
                        "utsns",
                        "shm",
                        "ip",
                        "additionalIps",
                        "cgroupParent",
                        "ownCgroupParent"),
                fields(file.get("record").get("metadata")));
        assertEquals(
                List.of("state", "pausePid", "pauseStartTime"),
                fields(file.get("record").get("status")));
        var loaded = store.loadAll((p, e) -> {}).getFirst().status();
        assertFalse(loaded.isBusy());
        assertTrue(loaded.isReady());
    }

    private static List<String> fields(JsonNode node) {
        List<String> fields = new ArrayList<>();
        node.fieldNames().forEachRemaining(fields::add);
        return fields;
    }

    @Test
    void load_unversionedFlatRecord_isMigrated() throws Exception {
        Files.writeString(dir.resolve(ID + ".json"), flatRecord(ID, true, 4242));

        SandboxRecord r = store().loadAll((p, e) -> {
                    throw new AssertionError(e);
                })
                .getFirst();

        assertEquals(ID, r.id());
        assertEquals(SandboxFixture.pod("web"), r.metadata().config());
        assertEquals("web_default_uid-web_0", r.metadata().name());
        assertEquals(1000, r.metadata().createdAt());
        assertEquals("/run/stevedore/ns/net/" + ID, r.metadata().netns());
        assertEquals("10.88.0.9", r.metadata().ip());
        assertEquals(List.of("fd00::9"), r.metadata().additionalIps());
        assertTrue(r.metadata().ownCgroupParent());
        assertEquals(
                new SandboxStatus(SandboxStatus.State.READY, 4242, 55, null, false, false, false, false), r.status());
    }

    @Test
    void load_versionTwoFlatRecordNotReady_isNotReadyWithWhatItMayHold() throws Exception {
        Files.writeString(dir.resolve(ID + ".json"), "{\"version\":2,\"record\":" + flatRecord(ID, false, 0) + "}");

        SandboxRecord r = store().loadAll((p, e) -> {
                    throw new AssertionError(e);
                })
                .getFirst();

        assertEquals(SandboxStatus.State.NOTREADY, r.status().state());
        assertEquals("/run/stevedore/ns/net/" + ID, r.metadata().netns());
    }

    @Test
    void put_resizedPod_storesItsResourcesAndLoadsThemBack() throws Exception {
        var resources = new PodResources(
                io.stevedore.cri.v1.LinuxContainerResources.newBuilder()
                        .setCpuShares(25)
                        .build(),
                io.stevedore.cri.v1.LinuxContainerResources.newBuilder()
                        .setMemoryLimitInBytes(1 << 26)
                        .setCpuQuota(50_000)
                        .build());
        var status = SandboxStatus.ready().beginResize().resized(resources);
        var store = store();

        store.put(ID, new SandboxRecord(metadata(), status));

        JsonNode file = JSON.readTree(dir.resolve(ID + ".json").toFile());
        assertEquals(
                List.of("state", "pausePid", "pauseStartTime", "resources"),
                fields(file.get("record").get("status")));
        assertEquals(status, store.loadAll((p, e) -> {}).getFirst().status());
    }

    @Test
    void load_versionThreeRecord_hasNoResourcesRecorded() throws Exception {
        var stored = JSON.createObjectNode();
        var record = JSON.createObjectNode();
        record.set("metadata", JSON.valueToTree(metadata()));
        record.set("status", JSON.readTree("{\"state\":\"READY\",\"pausePid\":42,\"pauseStartTime\":7}"));
        stored.put("version", 3);
        stored.set("record", record);
        Files.writeString(dir.resolve(ID + ".json"), JSON.writeValueAsString(stored));

        SandboxRecord r = store().loadAll((p, e) -> {
                    throw new AssertionError(e);
                })
                .getFirst();

        assertEquals(metadata(), r.metadata());
        assertEquals(new SandboxStatus(SandboxStatus.State.READY, 42, 7, null, false, false, false, false), r.status());
    }

    @Test
    void load_newerVersion_isRefusedAndKept() throws Exception {
        Path file = dir.resolve(ID + ".json");
        Files.writeString(file, "{\"version\":5,\"record\":{\"metadata\":{},\"spec\":{}}}");
        var refused = new ArrayList<Exception>();

        var loaded = store().loadAll((p, e) -> refused.add(e));

        assertEquals(List.of(), loaded);
        assertInstanceOf(RecordStore.UnknownVersion.class, refused.getFirst());
        assertTrue(Files.exists(file));
    }

    @Test
    void accessors_forStats_readThroughToMetadataAndStatus() throws Exception {
        var r = new SandboxRecord(metadata(), SandboxStatus.ready());

        assertEquals(ID, r.id());
        assertEquals(SandboxFixture.pod("web"), PodSandboxConfig.parseFrom(r.config()));
        assertEquals("/stevedore/" + ID, r.cgroupParent());
        assertTrue(r.ready());
        assertFalse(new SandboxRecord(metadata(), SandboxStatus.ready().beginStop()).ready());
    }
}

package io.stevedore.server.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.server.image.registry.Credentials;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ImageService.recover: a daemon killed mid-pull leaves nothing no record owns once restarted. */
class ImageRecoverTest {
    @TempDir
    Path state;

    final List<PullFixture> open = new ArrayList<>();

    @AfterEach
    void close() {
        open.forEach(PullFixture::close);
    }

    PullFixture start() throws Exception {
        var f = new PullFixture(state, 3);
        open.add(f);
        return f;
    }

    @Test
    void recover_afterPullKilledMidway_collectsWhatNoRecordOrContainerOwns() throws Exception {
        var before = start();
        var kept = before.publish("team/kept", List.of(PullFixture.layer("k", "kept")));
        before.images.pull(kept.ref(), Credentials.anonymous());
        List<String> owned = before.leftovers();
        // what a pull killed after committing a layer and its config, but before its record, leaves
        String orphanChain = "sha256:" + "1".repeat(64);
        String usedChain = "sha256:" + "2".repeat(64);
        before.snapshots.prepare(orphanChain, dir -> Files.writeString(dir.resolve("f"), "orphan"));
        before.snapshots.prepare(usedChain, dir -> Files.writeString(dir.resolve("f"), "a container's"));
        byte[] config = "{\"orphan\":true}".getBytes(StandardCharsets.UTF_8);
        String orphanBlob = io.stevedore.server.image.ref.Digest.sha256(config).toString();
        before.content.ingest(orphanBlob, config.length, () -> new ByteArrayInputStream(config));
        Files.createDirectories(state.resolve("snapshots/.tmp-" + "3".repeat(64) + "-42/fs"));
        Files.writeString(state.resolve("content/ingest/" + "4".repeat(64) + "-7"), "half a blob");

        // when: the daemon restarts, a container still using one of the orphans
        var after = start();
        after.inUse.add(usedChain);
        after.images.recover();

        // then
        List<String> expected = new ArrayList<>(owned);
        expected.add("snapshots/" + "2".repeat(64));
        expected.sort(null);
        assertEquals(expected, after.leftovers());
        assertTrue(after.complete(kept));
        assertEquals(1, after.images.list().size());
    }

    @Test
    void recover_recordWhoseSnapshotIsGone_isDroppedAndItsContentCollected() throws Exception {
        var before = start();
        var broken = before.publish("team/broken", List.of(PullFixture.layer("b", "broken")));
        before.images.pull(broken.ref(), Credentials.anonymous());
        before.snapshots.remove(broken.chains().getFirst()); // as a lost, unsynced rename would

        var after = start();
        after.images.recover();

        assertTrue(after.images.find(broken.ref()).isEmpty(), "kubelet will pull it again");
        assertEquals(List.of(), after.leftovers());
    }
}

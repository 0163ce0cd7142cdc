package io.stevedore.server.image;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.server.image.registry.Credentials;
import io.stevedore.server.image.store.ImageRecord;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Collection after RemoveImage against pulls under way and containers. */
class ImageGcTest {
    @TempDir
    Path state;

    PullFixture f;

    @BeforeEach
    void open() throws Exception {
        f = new PullFixture(state, 3); // all layers at once: every one but a held one commits
    }

    @AfterEach
    void close() {
        f.close();
    }

    @ParameterizedTest(name = "sharing a layer: {0}")
    @ValueSource(booleans = {true, false})
    void remove_otherImageWhilePullPausedAfterLayerCommit_pullCompletesUsable(boolean shared) throws Exception {
        byte[] base = PullFixture.layer("base", "base layer");
        var other = f.publish("team/other", List.of(shared ? base : PullFixture.layer("o", "other only")));
        var image =
                f.publish("team/app", List.of(base, PullFixture.layer("a", "app 1"), PullFixture.layer("b", "app 2")));
        f.images.pull(other.ref(), Credentials.anonymous());

        // given: the pull has committed its first layers and waits for its last one
        String last = image.layers().getLast();
        f.hold(last);
        var pull = CompletableFuture.supplyAsync(() -> f.images.pull(image.ref(), Credentials.anonymous()));
        await().atMost(Duration.ofSeconds(10))
                .until(() -> f.requests(last) == 1
                        && image.chains().subList(0, 2).stream().allMatch(f.snapshots::has));

        // when: another image is removed, which collects garbage; it does not wait for the pull
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> f.images.remove(other.ref()));
        assertFalse(pull.isDone(), "the pull is still held back");
        assertFalse(f.content.has(other.id()), "the removed image's config was collected");

        // then: the pull completes, and its image has every blob and snapshot
        f.release(last);
        ImageRecord r = pull.get(30, TimeUnit.SECONDS);
        assertEquals(image.id(), r.id());
        assertTrue(f.complete(image), "every snapshot and blob of the pulled image is there");
        assertEquals(
                shared, f.snapshots.has(other.chains().getFirst()), "the other's own layer went, a shared one stayed");
    }

    @Test
    void remove_snapshotUsedByContainer_isKept() throws Exception {
        var image = f.publish("team/app", List.of(PullFixture.layer("a", "app")));
        f.images.pull(image.ref(), Credentials.anonymous());
        f.inUse.add(image.chains().getFirst());

        f.images.remove(image.ref());

        assertTrue(f.images.find(image.ref()).isEmpty());
        assertTrue(f.snapshots.has(image.chains().getFirst()), "a container's layer outlives its image");
        assertFalse(f.content.has(image.id()));
    }

    @Test
    void pull_fails_removesWhatItAloneMade() throws Exception {
        byte[] base = PullFixture.layer("base", "base layer");
        var keep = f.publish("team/keep", List.of(base));
        f.images.pull(keep.ref(), Credentials.anonymous());
        List<String> before = f.leftovers();
        var broken = f.publish("team/broken", List.of(base, PullFixture.layer("gone", "never served")));
        f.registry.blobs.remove("team/broken:" + broken.layers().getLast());

        assertThrows(RuntimeException.class, () -> f.images.pull(broken.ref(), Credentials.anonymous()));

        assertEquals(before, f.leftovers(), "its config and manifest went; the layer an image names stayed");
        assertTrue(f.complete(keep));
    }
}

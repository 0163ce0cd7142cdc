package io.stevedore.conformance;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.stevedore.conformance.registry.TarWriter;
import io.stevedore.conformance.registry.TestImages;
import io.stevedore.conformance.registry.TestRegistry;
import io.stevedore.cri.v1.ImageSpec;
import io.stevedore.cri.v1.ImageStatusRequest;
import io.stevedore.cri.v1.ListImagesRequest;
import io.stevedore.cri.v1.PullImageRequest;
import io.stevedore.cri.v1.RemoveImageRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Issue 3's crash-safety promise: a daemon killed with SIGKILL in the middle of a pull leaves no
 * half-visible image, the next daemon on the same state cleans up what the pull left, and the
 * pull can simply be repeated.
 */
@RequiresRoot
class PullCrashIT {
    @Test
    void sigkillMidPull_restart_noHalfImageAndPullRepeats() throws Exception {
        Path dir = Files.createTempDirectory("sd-it-");
        try (var registry = TestRegistry.start()) {
            var random = new Random(7);
            List<TestImages.Layer> layers = new ArrayList<>();
            for (int l = 0; l < 4; l++) {
                byte[] data = new byte[24 * 1024 * 1024];
                random.nextBytes(data);
                layers.add(new TestImages.Layer(
                        List.of(TarWriter.Entry.file("blob" + l, data, 0644)), TestImages.Compression.GZIP));
            }
            var pushed = new TestImages(registry).push("test/crash", "v1", TestImages.Config.cmd("/x"), layers, false);
            var spec = ImageSpec.newBuilder().setImage(pushed.reference()).build();
            Path root = dir.resolve("root");

            // given a pull under way
            var first = DaemonProcess.start(dir);
            try (var client = CriClient.connect(first.socket());
                    var pool = Executors.newVirtualThreadPerTaskExecutor()) {
                pool.submit(() -> client.images()
                        .pullImage(PullImageRequest.newBuilder().setImage(spec).build()));
                await("an unpack in progress")
                        .atMost(Duration.ofSeconds(30))
                        .pollInterval(Duration.ofMillis(1))
                        .until(() -> inProgress(root.resolve("snapshots")));
                // when the daemon dies without warning
                first.process().destroyForcibly().waitFor();
            } finally {
                first.close();
            }

            // then a new daemon on the same state shows no image and no leftovers
            try (var second = DaemonProcess.start(dir);
                    var client = CriClient.connect(second.socket())) {
                assertFalse(client.images()
                        .imageStatus(
                                ImageStatusRequest.newBuilder().setImage(spec).build())
                        .hasImage());
                assertEquals(
                        0,
                        client.images()
                                .listImages(ListImagesRequest.getDefaultInstance())
                                .getImagesCount());
                assertFalse(inProgress(root.resolve("snapshots")), "interrupted unpacks removed at start-up");
                try (Stream<Path> ingest = Files.list(root.resolve("content/ingest"))) {
                    assertEquals(0, ingest.count(), "interrupted downloads removed at start-up");
                }
                // and the pull can be repeated
                String id = client.images()
                        .pullImage(PullImageRequest.newBuilder().setImage(spec).build())
                        .getImageRef();
                assertEquals(pushed.configDigest(), id);
                client.images()
                        .removeImage(
                                RemoveImageRequest.newBuilder().setImage(spec).build());
                assertEquals(0, second.terminate());
            }
        } finally {
            LiveDaemon.deleteTree(dir);
        }
    }

    private static boolean inProgress(Path snapshots) throws IOException {
        if (!Files.isDirectory(snapshots)) {
            return false;
        }
        try (Stream<Path> s = Files.list(snapshots)) {
            return s.anyMatch(p -> p.getFileName().toString().startsWith(".tmp-"));
        }
    }
}

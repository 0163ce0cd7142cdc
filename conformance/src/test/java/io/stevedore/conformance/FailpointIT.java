package io.stevedore.conformance;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.conformance.registry.BusyboxImage;
import io.stevedore.conformance.registry.TestImages;
import io.stevedore.conformance.registry.TestRegistry;
import io.stevedore.cri.v1.*;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 13, Done-when 1: the daemon halted at each failpoint in turn (one case each), as a SIGKILL
 * there would, then restarted over the same state. After recovery every container whose process
 * exists is listed with its true state (no ghost, none lost, none listed running without a
 * process); then every pod and image is removed and nothing is left: no pin, veth, IP reservation,
 * CNI cache entry, cgroup, mount, shim, pause or container process, bundle, snapshot or blob.
 *
 * <p>One workload passes every failpoint: pull, a pod sharing its PID namespace (so it gets a
 * pause), two containers started, one stopped and removed, the pod stopped and removed, the image
 * removed. The daemon is armed with one failpoint, so the workload ends where it halts.
 */
@RequiresRoot
class FailpointIT {
    static TestRegistry registry;
    static String image;

    @BeforeAll
    static void setUp() throws Exception {
        registry = TestRegistry.start();
        image = BusyboxImage.push(new TestImages(registry), "test/busybox", "1").reference();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (registry != null) registry.close();
    }

    /** Every failpoint the daemon has, as its source names them: a new one gets a case by itself. */
    static Stream<String> failpoints() throws IOException {
        String src = Files.readString(
                DaemonProcess.home().resolve("cri-server/src/main/java/io/stevedore/server/state/Failpoints.java"));
        var m = Pattern.compile("public static final String \\w+ = \"([a-z.-]+)\";")
                .matcher(src);
        List<String> names = new ArrayList<>();
        while (m.find()) names.add(m.group(1));
        assertTrue(names.size() > 10, "failpoints found in the source: " + names);
        return names.stream();
    }

    @ParameterizedTest
    @MethodSource("failpoints")
    void daemonHaltedAtFailpoint_restarted_truthListedAndNothingLeftAfterRemoval(String failpoint) throws Exception {
        try (var fx = new CrashFixture(
                Files.createTempDirectory("sd-fp-"), new BridgeNetwork("sdfp", "sdfp0", "10.123.0.0/24"))) {
            // given a daemon that halts at the failpoint
            fx.start(Map.of("STEVEDORE_FAILPOINTS", failpoint));
            var expectRunning = new HashSet<String>();
            boolean completed = workload(fx, expectRunning);
            assertTrue(!completed, "the workload passed " + failpoint + " without a halt");
            assertEquals(137, fx.awaitExit(), "halted at " + failpoint);

            // when it is restarted over the same state
            fx.start(Map.of());
            fx.awaitServing();

            // then every container is listed as it is
            Set<String> running = fx.running();
            var lost =
                    expectRunning.stream().filter(id -> !running.contains(id)).toList();
            var ghosts = fx.ghosts();
            var phantoms = running.stream()
                    .filter(id -> fx.census.containerProcesses().stream()
                            .noneMatch(p -> LeakCensus.cgroupOf(Long.parseLong(p.substring(0, p.indexOf(' '))))
                                    .endsWith("/" + id)))
                    .toList();

            // and after everything is removed, nothing is left
            fx.removeEverything();
            var leaks = fx.leaks();
            System.out.printf(
                    "FailpointIT %s: lost %s ghosts %s phantoms %s leaks %s%n",
                    failpoint, lost, ghosts, phantoms, LeakCensus.counts(leaks));
            assertAll(
                    failpoint,
                    () -> assertEquals(List.of(), lost, "started OK but not listed running"),
                    () -> assertEquals(List.of(), ghosts, "running but not listed running"),
                    () -> assertEquals(List.of(), phantoms, "listed running without a process"),
                    () -> assertEquals(Map.of(), LeakCensus.counts(leaks), "left behind: " + leaks),
                    () -> assertEquals(0, fx.terminate(), "the daemon stops cleanly"));
        }
    }

    /**
     * Runs the workload until a call fails because the daemon is gone.
     *
     * @param expectRunning gets the containers that must be running after a restart
     * @return whether it ran to the end
     */
    private static boolean workload(CrashFixture fx, Set<String> expectRunning) {
        try {
            fx.images()
                    .pullImage(PullImageRequest.newBuilder()
                            .setImage(ImageSpec.newBuilder().setImage(image))
                            .build());
            var cfg = fx.podConfig("fp", true);
            String pod = fx.runPod(cfg);
            String c1 = fx.createSleeper(pod, cfg, "c1", image);
            fx.start(c1);
            expectRunning.add(c1);
            String c2 = fx.createSleeper(pod, cfg, "c2", image);
            fx.start(c2);
            expectRunning.add(c2);
            expectRunning.remove(c1); // stopped from here on, or still running: either is its true state
            fx.rt()
                    .stopContainer(StopContainerRequest.newBuilder()
                            .setContainerId(c1)
                            .setTimeout(5)
                            .build());
            fx.rt()
                    .removeContainer(RemoveContainerRequest.newBuilder()
                            .setContainerId(c1)
                            .build());
            expectRunning.clear();
            fx.rt()
                    .stopPodSandbox(StopPodSandboxRequest.newBuilder()
                            .setPodSandboxId(pod)
                            .build());
            fx.rt()
                    .removePodSandbox(RemovePodSandboxRequest.newBuilder()
                            .setPodSandboxId(pod)
                            .build());
            fx.images()
                    .removeImage(RemoveImageRequest.newBuilder()
                            .setImage(ImageSpec.newBuilder().setImage(image))
                            .build());
            return true;
        } catch (RuntimeException e) {
            if (!CrashFixture.isUnavailable(e)) throw e;
            return false; // the daemon is gone: awaitExit says how
        }
    }
}

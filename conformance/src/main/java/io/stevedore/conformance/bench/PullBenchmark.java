package io.stevedore.conformance.bench;

import io.stevedore.conformance.CriClient;
import io.stevedore.conformance.DaemonProcess;
import io.stevedore.conformance.LiveDaemon;
import io.stevedore.conformance.registry.TarWriter;
import io.stevedore.conformance.registry.TestImages;
import io.stevedore.cri.v1.ImageSpec;
import io.stevedore.cri.v1.PullImageRequest;
import io.stevedore.cri.v1.RemoveImageRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Cold image pulls through the CRI, ours against another runtime on the same registry in the same
 * run: each sample pulls the image, then removes it (both runtimes then delete its content and
 * snapshots), so every pull downloads and unpacks everything.
 *
 * <pre>
 * mvn -q -pl conformance exec:java -Dexec.mainClass=io.stevedore.conformance.bench.PullBenchmark \
 *     -Dstevedore.home=$PWD -Dexec.args="--registry 127.0.0.1:5000 --runs 5 \
 *     --containerd /usr/bin/containerd --containerd-certs-d /etc/lab-containerd/certs.d \
 *     --image 127.0.0.1:5000/stevedore-bench/big:v1 --image registry.k8s.io/e2e-test-images/busybox:1.29-2"
 * </pre>
 *
 * The peer is a private containerd (empty content store, so its pulls are as cold as ours; a
 * shared one keeps layers other images use) whose registry hosts come from
 * {@code --containerd-certs-d}; or, with {@code --peer}, any CRI socket.
 *
 * With {@code --registry}, the ~100 MB five-layer image {@code stevedore-bench/big:v1} is pushed
 * there first (pseudo-random, so it does not compress away; the same bytes every time). Our daemon
 * is started by the benchmark with the registry configuration in {@code --certs-d} (default
 * {@code /etc/stevedore/certs.d}).
 */
public final class PullBenchmark {
    private PullBenchmark() {}

    public static void main(String[] args) throws Exception {
        int runs = 5;
        String registry = null;
        String peer = null;
        String certsD = "/etc/stevedore/certs.d";
        String containerd = null;
        String containerdCertsD = "/etc/lab-containerd/certs.d";
        List<String> images = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--registry" -> registry = args[++i];
                case "--peer" -> peer = args[++i].replaceFirst("^unix://", "");
                case "--image" -> images.add(args[++i]);
                case "--certs-d" -> certsD = args[++i];
                case "--containerd" -> containerd = args[++i];
                case "--containerd-certs-d" -> containerdCertsD = args[++i];
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (registry != null) {
            pushBig(registry);
        }
        Path dir = Files.createTempDirectory("sd-pull-bench-");
        Files.writeString(dir.resolve("stevedore.toml"), "[image]\nregistry_config_dir = \"" + certsD + "\"\n");
        PrivateContainerd ctd = containerd == null
                ? null
                : new PrivateContainerd(
                        containerd,
                        "[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = \"" + containerdCertsD
                                + "\"\n");
        if (ctd != null) {
            peer = ctd.socket().toString();
            awaitSocket(ctd.socket());
        }
        try (var daemon = DaemonProcess.start(
                        dir, "--config", dir.resolve("stevedore.toml").toString(), "--log-level", "info");
                var ours = CriClient.connect(daemon.socket());
                var theirs = peer == null ? null : CriClient.connect(Path.of(peer))) {
            System.out.printf("runs=%d%n", runs);
            for (String image : images) {
                double[] us = new double[runs];
                double[] them = new double[runs];
                for (int r = 0; r < runs; r++) {
                    us[r] = coldPull(ours, image);
                    if (theirs != null) {
                        them[r] = coldPull(theirs, image);
                    }
                }
                report(image, "stevedore", us);
                if (theirs != null) {
                    report(image, ctd != null ? "containerd" : "peer", them);
                }
            }
            daemon.terminate();
        } finally {
            LiveDaemon.deleteTree(dir);
            if (ctd != null) {
                ctd.close();
            }
        }
    }

    private static void awaitSocket(Path socket) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!Files.exists(socket)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("containerd did not create " + socket + " within 60 s");
            }
            Thread.sleep(5); // a benchmark's own start-up, not a test
        }
    }

    private static double coldPull(CriClient c, String image) {
        var spec = ImageSpec.newBuilder().setImage(image).build();
        c.images().removeImage(RemoveImageRequest.newBuilder().setImage(spec).build());
        long t0 = System.nanoTime();
        c.images().pullImage(PullImageRequest.newBuilder().setImage(spec).build());
        double ms = (System.nanoTime() - t0) / 1e6;
        c.images().removeImage(RemoveImageRequest.newBuilder().setImage(spec).build());
        return ms;
    }

    private static void pushBig(String registry) throws Exception {
        var random = new Random(42);
        List<TestImages.Layer> layers = new ArrayList<>();
        for (int l = 0; l < 5; l++) {
            List<TarWriter.Entry> entries = new ArrayList<>();
            entries.add(TarWriter.Entry.dir("layer" + l, 0755));
            for (int f = 0; f < 20; f++) {
                byte[] data = new byte[1024 * 1024];
                random.nextBytes(data);
                entries.add(TarWriter.Entry.file("layer" + l + "/blob" + f, data, 0644));
            }
            layers.add(new TestImages.Layer(entries, TestImages.Compression.GZIP));
        }
        var images = new TestImages(registry);
        var pushed = images.push("stevedore-bench/big", "v1", TestImages.Config.cmd("/bin/true"), layers, false);
        System.out.printf("pushed %s (%d MB)%n", pushed.reference(), pushed.size() / 1_000_000);
    }

    private static void report(String image, String who, double[] ms) {
        double[] s = ms.clone();
        Arrays.sort(s);
        double median = s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
        System.out.printf(
                "%-50s %-10s cold pull ms: median %.0f  min %.0f  max %.0f%n",
                image, who, median, s[0], s[s.length - 1]);
    }
}

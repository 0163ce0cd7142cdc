package io.stevedore.conformance.bench;

import io.stevedore.conformance.CriClient;
import io.stevedore.conformance.stream.SpdyCommand;
import io.stevedore.conformance.stream.SpdyPortForward;
import io.stevedore.cri.v1.ContainerConfig;
import io.stevedore.cri.v1.ContainerMetadata;
import io.stevedore.cri.v1.CreateContainerRequest;
import io.stevedore.cri.v1.ExecRequest;
import io.stevedore.cri.v1.ImageSpec;
import io.stevedore.cri.v1.PodSandboxConfig;
import io.stevedore.cri.v1.PodSandboxMetadata;
import io.stevedore.cri.v1.PortForwardRequest;
import io.stevedore.cri.v1.PullImageRequest;
import io.stevedore.cri.v1.RemovePodSandboxRequest;
import io.stevedore.cri.v1.RunPodSandboxRequest;
import io.stevedore.cri.v1.StartContainerRequest;
import io.stevedore.cri.v1.StopPodSandboxRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

/**
 * Streaming against two CRI runtimes in the same run, alternating: exec round trip ({@code echo}
 * over SPDY v4: Exec RPC, upgrade, streams, output, status), port-forward throughput (100 MiB
 * each way over SPDY), and the daemon's resident memory with N idle exec sessions open. Both
 * runtimes get the same client (ours, {@link SpdyCommand}) and the same busybox image.
 *
 * <pre>
 * shared/lab/up.sh                    # registry, images, CNI, containerd on /run/lab-containerd
 * sudo ./run.sh &                     # stevedore on /run/stevedore/stevedore.sock
 * mvn -q -pl conformance -am -DskipTests install
 * mvn -q -pl conformance exec:java -Dexec.mainClass=io.stevedore.conformance.bench.StreamingBenchmark \
 *     -Dexec.args="--a /run/stevedore/stevedore.sock --a-pid $(pgrep -f io.stevedore.server.Main) \
 *                  --b /run/lab-containerd/containerd.sock --b-pid $(pgrep -x containerd)"
 * </pre>
 */
public final class StreamingBenchmark {
    private static final String IMAGE = "registry.k8s.io/e2e-test-images/busybox:1.29-4";
    private static final int DOWN_PORT = 8081;
    private static final int UP_PORT = 8082;

    private StreamingBenchmark() {}

    /** One runtime under test: its client, pod and container. */
    record Target(String name, CriClient cri, long pid, String pod, String ctr) {}

    public static void main(String[] args) throws Exception {
        String a = null;
        String b = null;
        long aPid = 0;
        long bPid = 0;
        int execs = 200;
        int mib = 100;
        int idle = 100;
        int rounds = 3;
        int warmup = 10;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--a" -> a = args[++i];
                case "--b" -> b = args[++i];
                case "--a-pid" -> aPid = Long.parseLong(args[++i]);
                case "--b-pid" -> bPid = Long.parseLong(args[++i]);
                case "--execs" -> execs = Integer.parseInt(args[++i]);
                case "--mib" -> mib = Integer.parseInt(args[++i]);
                case "--idle" -> idle = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        List<Target> targets = List.of(setUp("A", a, aPid, mib), setUp("B", b, bPid, mib));
        try {
            for (Target t : targets) { // the CRI call alone, for scale: what every Exec RPC pays
                var v = new ArrayList<Double>();
                for (int i = 0; i < 1000; i++) {
                    long s0 = System.nanoTime();
                    t.cri().runtime().version(io.stevedore.cri.v1.VersionRequest.getDefaultInstance());
                    v.add((System.nanoTime() - s0) / 1e6);
                }
                v = new ArrayList<>(v.subList(500, 1000)); // after 500 to warm both sides
                v.sort(Double::compare);
                System.out.printf(
                        Locale.ROOT, "%s Version RPC: p50 %.2f ms  p99 %.2f ms%n", t.name(), pct(v, 50), pct(v, 99));
            }
            var lat = new ArrayList<List<Double>>(List.of(new ArrayList<>(), new ArrayList<>()));
            for (int i = 0; i < warmup; i++) { // warm-up, both (a JVM's JIT needs more than Go does)
                for (Target t : targets) {
                    execEcho(t);
                }
            }
            PHASES.clear();
            for (int i = 0; i < execs; i++) {
                for (int k = 0; k < 2; k++) {
                    lat.get(k).add(execEcho(targets.get(k)));
                }
            }
            for (int k = 0; k < 2; k++) {
                var l = lat.get(k);
                l.sort(Double::compare);
                System.out.printf(
                        Locale.ROOT,
                        "%s exec echo round trip over %d after %d warm-up: p50 %.2f ms  p99 %.2f ms  min %.2f  max %.2f%n",
                        targets.get(k).name(),
                        l.size(),
                        warmup,
                        pct(l, 50),
                        pct(l, 99),
                        l.getFirst(),
                        l.getLast());
                var ph = PHASES.get(targets.get(k).name());
                double[] med = new double[4];
                for (int j = 0; j < 4; j++) {
                    int jj = j;
                    med[j] = median(ph.stream().map(x -> x[jj]).toList());
                }
                System.out.printf(
                        Locale.ROOT,
                        "  medians: Exec RPC %.2f ms, upgrade+streams %.2f, to first output %.2f, to status %.2f%n",
                        med[0],
                        med[1],
                        med[2],
                        med[3]);
            }
            var down = new ArrayList<List<Double>>(List.of(new ArrayList<>(), new ArrayList<>()));
            var up = new ArrayList<List<Double>>(List.of(new ArrayList<>(), new ArrayList<>()));
            for (int r = 0; r < rounds; r++) {
                for (int k = 0; k < 2; k++) {
                    down.get(k).add(download(targets.get(k), mib));
                    up.get(k).add(upload(targets.get(k), mib));
                }
            }
            for (int k = 0; k < 2; k++) {
                System.out.printf(
                        Locale.ROOT,
                        "%s port-forward %d MiB: pod->client median %.0f MB/s %s, client->pod median %.0f MB/s %s%n",
                        targets.get(k).name(),
                        mib,
                        median(down.get(k)),
                        fmt(down.get(k)),
                        median(up.get(k)),
                        fmt(up.get(k)));
            }
            for (Target t : targets) {
                idleSessions(t, idle);
            }
        } finally {
            for (Target t : targets) {
                tearDown(t);
            }
        }
    }

    static Target setUp(String name, String socket, long pid, int mib) {
        var cri = CriClient.connect(Path.of(socket));
        cri.images()
                .pullImage(PullImageRequest.newBuilder()
                        .setImage(ImageSpec.newBuilder().setImage(IMAGE))
                        .build());
        String uid = UUID.randomUUID().toString();
        var podCfg = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder()
                        .setName("stream-bench")
                        .setNamespace("bench")
                        .setUid(uid))
                .build();
        String pod = cri.runtime()
                .runPodSandbox(
                        RunPodSandboxRequest.newBuilder().setConfig(podCfg).build())
                .getPodSandboxId();
        // Downloads come from busybox httpd (sendfile: the pod side is not the bottleneck), uploads go
        // to nc, which reads until our half-close and then closes.
        String script = "mkdir -p /www && head -c " + ((long) mib << 20) + " /dev/zero > /www/big && httpd -p "
                + DOWN_PORT + " -h /www && while :; do nc -l -p " + UP_PORT + " > /dev/null; done";
        String ctr = cri.runtime()
                .createContainer(CreateContainerRequest.newBuilder()
                        .setPodSandboxId(pod)
                        .setSandboxConfig(podCfg)
                        .setConfig(ContainerConfig.newBuilder()
                                .setMetadata(ContainerMetadata.newBuilder().setName("bench"))
                                .setImage(ImageSpec.newBuilder().setImage(IMAGE))
                                .addCommand("sh")
                                .addArgs("-c")
                                .addArgs(script))
                        .build())
                .getContainerId();
        cri.runtime()
                .startContainer(
                        StartContainerRequest.newBuilder().setContainerId(ctr).build());
        return new Target(name + " (" + socket + ")", cri, pid, pod, ctr);
    }

    static void tearDown(Target t) {
        try {
            t.cri()
                    .runtime()
                    .stopPodSandbox(StopPodSandboxRequest.newBuilder()
                            .setPodSandboxId(t.pod())
                            .build());
            t.cri()
                    .runtime()
                    .removePodSandbox(RemovePodSandboxRequest.newBuilder()
                            .setPodSandboxId(t.pod())
                            .build());
        } finally {
            t.cri().close();
        }
    }

    /** Per runtime: the phases of the exec round trip, for the breakdown line. */
    static final java.util.Map<String, List<double[]>> PHASES = new java.util.concurrent.ConcurrentHashMap<>();

    /** One {@code echo hi}: Exec RPC to status read, in milliseconds. */
    static double execEcho(Target t) throws IOException {
        long start = System.nanoTime();
        String url = t.cri()
                .runtime()
                .exec(ExecRequest.newBuilder()
                        .setContainerId(t.ctr())
                        .addCmd("echo")
                        .addCmd("hi")
                        .setStdout(true)
                        .build())
                .getUrl();
        long rpc = System.nanoTime();
        try (var cmd = SpdyCommand.open(url, SpdyCommand.V4, false, true, false, false)) {
            long streams = System.nanoTime();
            int first = cmd.stdout().read();
            long output = System.nanoTime();
            String out = (char) first + new String(cmd.stdout().readAllBytes(), StandardCharsets.UTF_8);
            String status = readToEndOrReset(cmd.error());
            long end = System.nanoTime();
            PHASES.computeIfAbsent(t.name(), k -> new java.util.concurrent.CopyOnWriteArrayList<>())
                    .add(new double[] {
                        (rpc - start) / 1e6, (streams - rpc) / 1e6, (output - streams) / 1e6, (end - output) / 1e6
                    });
            if (!out.equals("hi\n") || !status.contains("Success")) {
                throw new IllegalStateException(t.name() + ": exec gave \"" + out + "\" / " + status);
            }
        }
        return (System.nanoTime() - start) / 1e6;
    }

    /**
     * A stream's bytes to its end. The kubelet's server (containerd's) ends the error stream with
     * RST_STREAM CANCEL when it closes the connection, which spdystream clients read as EOF.
     */
    static String readToEndOrReset(InputStream in) throws IOException {
        var b = new java.io.ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        try {
            int n;
            while ((n = in.read(buf)) >= 0) {
                b.write(buf, 0, n);
            }
        } catch (io.stevedore.conformance.stream.SpdyClient.StreamResetException e) {
            // EOF, as spdystream reads it
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    /** MB/s of {@code mib} MiB read from the pod (an HTTP GET of /big, headers not counted). */
    static double download(Target t, int mib) throws Exception {
        String url = t.cri()
                .runtime()
                .portForward(PortForwardRequest.newBuilder()
                        .setPodSandboxId(t.pod())
                        .addPort(DOWN_PORT)
                        .build())
                .getUrl();
        try (var pf = SpdyPortForward.open(url)) {
            var c = pf.connect(DOWN_PORT);
            long want = (long) mib << 20;
            byte[] buf = new byte[64 << 10];
            long got = 0;
            long start = System.nanoTime();
            c.data().output().write("GET /big HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            c.data().output().flush();
            InputStream in = c.data().input();
            skipHeaders(in);
            while (got < want) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, want - got));
                if (n < 0) {
                    throw new IOException("the pod closed after " + got + " bytes");
                }
                got += n;
            }
            double secs = (System.nanoTime() - start) / 1e9;
            c.data().reset();
            return want / 1e6 / secs;
        }
    }

    private static void skipHeaders(InputStream in) throws IOException {
        int state = 0; // bytes of "\r\n\r\n" seen
        while (state < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("no HTTP response");
            }
            state = (b == (state % 2 == 0 ? '\r' : '\n')) ? state + 1 : (b == '\r' ? 1 : 0);
        }
    }

    /** MB/s of {@code mib} MiB written to the pod, until the pod closed after our half-close. */
    static double upload(Target t, int mib) throws Exception {
        String url = t.cri()
                .runtime()
                .portForward(PortForwardRequest.newBuilder()
                        .setPodSandboxId(t.pod())
                        .addPort(UP_PORT)
                        .build())
                .getUrl();
        try (var pf = SpdyPortForward.open(url)) {
            var c = pf.connect(UP_PORT);
            long want = (long) mib << 20;
            byte[] buf = new byte[32 << 10];
            long start = System.nanoTime();
            OutputStream out = c.data().output();
            for (long sent = 0; sent < want; sent += buf.length) {
                out.write(buf);
            }
            c.data().halfClose();
            c.data().input().readAllBytes(); // EOF: the pod's nc read everything and closed
            double secs = (System.nanoTime() - start) / 1e9;
            return want / 1e6 / secs;
        }
    }

    /** RSS of the daemon (and of runc processes) before and with {@code n} idle exec sessions. */
    static void idleSessions(Target t, int n) throws Exception {
        long before = rssKb(t.pid());
        long runcBefore = runcExecRssKb();
        var sessions = new ArrayList<SpdyCommand>();
        try {
            for (int i = 0; i < n; i++) {
                String url = t.cri()
                        .runtime()
                        .exec(ExecRequest.newBuilder()
                                .setContainerId(t.ctr())
                                .addCmd("cat")
                                .setStdin(true)
                                .setStdout(true)
                                .build())
                        .getUrl();
                var cmd = SpdyCommand.open(url, SpdyCommand.V4, true, true, false, false);
                sessions.add(cmd);
                cmd.stdin().write(("s" + i + "\n").getBytes(StandardCharsets.UTF_8)); // each one really runs
                cmd.stdin().flush();
                byte[] echo = new byte[("s" + i + "\n").length()];
                new java.io.DataInputStream(cmd.stdout()).readFully(echo);
            }
            long with = rssKb(t.pid());
            long runcWith = runcExecRssKb();
            System.out.printf(
                    Locale.ROOT,
                    "%s %d idle exec sessions: daemon RSS %d -> %d MiB (+%d); runc exec processes %d MiB%n",
                    t.name(),
                    n,
                    before >> 10,
                    with >> 10,
                    (with - before) >> 10,
                    (runcWith - runcBefore) >> 10);
        } finally {
            for (var s : sessions) {
                s.close();
            }
        }
    }

    static long rssKb(long pid) throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (l.startsWith("VmRSS:")) {
                return Long.parseLong(l.replaceAll("[^0-9]", ""));
            }
        }
        return 0;
    }

    static long runcExecRssKb() {
        return ProcessHandle.allProcesses()
                .filter(h -> h.info()
                        .commandLine()
                        .map(c -> c.contains("runc") && c.contains(" exec "))
                        .orElse(false))
                .mapToLong(h -> {
                    try {
                        return rssKb(h.pid());
                    } catch (IOException e) {
                        return 0;
                    }
                })
                .sum();
    }

    static double pct(List<Double> sorted, int p) {
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }

    static double median(List<Double> l) {
        var s = new ArrayList<>(l);
        s.sort(Double::compare);
        return s.get(s.size() / 2);
    }

    static String fmt(List<Double> l) {
        return Arrays.toString(l.stream().mapToLong(Math::round).toArray());
    }
}

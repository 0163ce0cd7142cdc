package io.stevedore.conformance.stream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.stevedore.conformance.CriClient;
import io.stevedore.conformance.DaemonProcess;
import io.stevedore.conformance.LiveDaemon;
import io.stevedore.conformance.registry.BusyboxImage;
import io.stevedore.conformance.registry.TestImages;
import io.stevedore.conformance.registry.TestRegistry;
import io.stevedore.cri.v1.*;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What the streaming ITs share: a daemon on private directories with a test-only CNI bridge and
 * subnet (no masquerade, no portmap: nothing left in iptables), the busybox test image from a
 * local registry, and one pod that runs for the whole class with three containers:
 *
 * <ul>
 *   <li>{@link #shell()}: {@code sleep}, the target of the execs;
 *   <li>{@link #ticker()}: prints {@code tick N} every 0.2 s, the target of the attaches;
 *   <li>an echo server on port {@value #ECHO_PORT} ({@code nc -ll -e cat}), for port forwarding;
 *       port {@value #CLOSED_PORT} is closed.
 * </ul>
 *
 * After the class: the pod is stopped and removed, the daemon must exit 0 on SIGTERM, and no
 * process, mount, bridge or iptables rule of the test may remain.
 */
final class StreamingFixture implements BeforeAllCallback, AfterAllCallback {
    static final int ECHO_PORT = 8080;
    static final int CLOSED_PORT = 8081;

    private final String bridge;
    private final String network;
    private final String subnetPrefix;
    private Path dir;
    private TestRegistry registry;
    private DaemonProcess daemon;
    private CriClient client;
    private String image;
    private String podId;
    private PodSandboxConfig podConfig;
    private String shell;
    private String ticker;

    /** {@code subnetPrefix} like {@code 10.124.0.}: a /24 no other test uses. */
    StreamingFixture(String bridge, String network, String subnetPrefix) {
        this.bridge = bridge;
        this.network = network;
        this.subnetPrefix = subnetPrefix;
    }

    @Override
    public void beforeAll(ExtensionContext ctx) throws Exception {
        dir = Files.createTempDirectory("sd-stream-");
        registry = TestRegistry.start();
        image = BusyboxImage.push(new TestImages(registry), "test/busybox", "1").reference();
        Path cni = Files.createDirectories(dir.resolve("cni"));
        Files.writeString(cni.resolve("10-test.conflist"), """
        {"cniVersion": "1.0.0", "name": "%s", "plugins": [
          {"type": "bridge", "bridge": "%s", "isGateway": true, "ipMasq": false,
           "ipam": {"type": "host-local", "ranges": [[{"subnet": "%s0/24"}]]}}]}
        """.formatted(network, bridge, subnetPrefix));
        Files.writeString(dir.resolve("stevedore.toml"), "[cni]\nconf_dir = \"" + cni + "\"\n");
        daemon = DaemonProcess.start(
                dir.resolve("d"), "--config", dir.resolve("stevedore.toml").toString());
        client = CriClient.connect(daemon.socket());
        client.images()
                .pullImage(PullImageRequest.newBuilder()
                        .setImage(ImageSpec.newBuilder().setImage(image))
                        .build());

        var pod = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder()
                        .setName("stream")
                        .setNamespace("it")
                        .setUid(UUID.randomUUID().toString()))
                .setLogDirectory(dir.resolve("logs").toString())
                .setLinux(LinuxPodSandboxConfig.getDefaultInstance())
                .build();
        podConfig = pod;
        podId = rt().runPodSandbox(
                        RunPodSandboxRequest.newBuilder().setConfig(pod).build())
                .getPodSandboxId();
        shell = create("shell", List.of("sleep", "100000"), b -> {});
        start(shell);
        ticker = create(
                "ticker",
                List.of("sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done"),
                b -> {});
        start(ticker);
        String echo = create("echo", List.of("nc", "-ll", "-p", Integer.toString(ECHO_PORT), "-e", "cat"), b -> {});
        start(echo);
        var listen = java.util.regex.Pattern.compile(":%04X 0+:0000 0A".formatted(ECHO_PORT)); // LISTEN, v4 or v6
        await("echo server listens")
                .atMost(Duration.ofSeconds(30))
                .until(() -> listen.matcher(execSync(shell, "cat", "/proc/net/tcp", "/proc/net/tcp6"))
                        .find());
    }

    @Override
    public void afterAll(ExtensionContext ctx) throws Exception {
        try {
            if (client != null) {
                for (var p : rt().listPodSandbox(ListPodSandboxRequest.getDefaultInstance())
                        .getItemsList()) {
                    rt().stopPodSandbox(StopPodSandboxRequest.newBuilder()
                            .setPodSandboxId(p.getId())
                            .build());
                    rt().removePodSandbox(RemovePodSandboxRequest.newBuilder()
                            .setPodSandboxId(p.getId())
                            .build());
                }
                client.close();
            }
            if (daemon != null) {
                int code = daemon.terminate();
                assertEquals(0, code, "daemon exit code on SIGTERM; stderr:\n" + daemon.stderrText());
            }
            assertEquals(List.of(), leftoverProcesses(), "no shim, container or exec process outlives the pod");
            assertEquals(List.of(), mountsUnder(dir), "no mount outlives the pod");
        } finally {
            if (registry != null) {
                registry.close();
            }
            run("ip", "link", "del", bridge);
            LiveDaemon.deleteTree(Path.of("/var/lib/cni/networks", network));
            String rules = run("iptables-save");
            LiveDaemon.deleteTree(dir);
            assertEquals(
                    List.of(),
                    rules.lines()
                            .filter(l -> l.contains(subnetPrefix) || l.contains(bridge))
                            .toList(),
                    "iptables rules of the test network");
        }
    }

    // ------------------------------------------------------------------ the pod

    String podId() {
        return podId;
    }

    /** The container that execs go to ({@code sleep}). */
    String shell() {
        return shell;
    }

    /** The container that prints {@code tick N} lines, for attach. */
    String ticker() {
        return ticker;
    }

    DaemonProcess daemon() {
        return daemon;
    }

    RuntimeServiceGrpc.RuntimeServiceBlockingStub rt() {
        return client.runtime().withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    String create(String name, List<String> cmd, Consumer<ContainerConfig.Builder> edit) {
        var b = ContainerConfig.newBuilder()
                .setMetadata(ContainerMetadata.newBuilder().setName(name))
                .setImage(ImageSpec.newBuilder().setImage(image))
                .addAllCommand(cmd)
                .setLogPath(name + ".log");
        edit.accept(b);
        return rt().createContainer(CreateContainerRequest.newBuilder()
                        .setPodSandboxId(podId)
                        .setConfig(b)
                        .setSandboxConfig(podConfig)
                        .build())
                .getContainerId();
    }

    void start(String id) {
        rt().startContainer(
                        StartContainerRequest.newBuilder().setContainerId(id).build());
    }

    ContainerState state(String id) {
        return rt().containerStatus(
                        ContainerStatusRequest.newBuilder().setContainerId(id).build())
                .getStatus()
                .getState();
    }

    String execSync(String id, String... cmd) {
        return rt().execSync(ExecSyncRequest.newBuilder()
                        .setContainerId(id)
                        .addAllCmd(List.of(cmd))
                        .setTimeout(10)
                        .build())
                .getStdout()
                .toStringUtf8();
    }

    // ------------------------------------------------------------------ streaming URLs

    String execUrl(String container, List<String> cmd, boolean stdin, boolean stdout, boolean stderr, boolean tty) {
        return rt().exec(ExecRequest.newBuilder()
                        .setContainerId(container)
                        .addAllCmd(cmd)
                        .setStdin(stdin)
                        .setStdout(stdout)
                        .setStderr(stderr)
                        .setTty(tty)
                        .build())
                .getUrl();
    }

    String attachUrl(String container, boolean stdin, boolean stdout, boolean stderr, boolean tty) {
        return rt().attach(AttachRequest.newBuilder()
                        .setContainerId(container)
                        .setStdin(stdin)
                        .setStdout(stdout)
                        .setStderr(stderr)
                        .setTty(tty)
                        .build())
                .getUrl();
    }

    String portForwardUrl(Integer... ports) {
        return rt().portForward(PortForwardRequest.newBuilder()
                        .setPodSandboxId(podId)
                        .addAllPort(List.of(ports))
                        .build())
                .getUrl();
    }

    /** The URL with its token replaced by one the daemon never issued. */
    static String forged(String url) {
        return url.substring(0, url.lastIndexOf('/') + 1)
                + UUID.randomUUID().toString().replace("-", "");
    }

    // ------------------------------------------------------------------ checks

    /** Open file descriptors of the daemon process. */
    long daemonFds() throws IOException {
        try (Stream<Path> s =
                Files.list(Path.of("/proc", Long.toString(daemon.process().pid()), "fd"))) {
            return s.count();
        }
    }

    /** Processes whose argv is exactly {@code argv} (read from /proc). */
    static List<Long> processesWithArgv(List<String> argv) {
        return processes(a -> a.equals(argv));
    }

    static List<Long> processes(Predicate<List<String>> argvMatches) {
        var out = new ArrayList<Long>();
        try (Stream<Path> s = Files.list(Path.of("/proc"))) {
            for (Path p : s.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                    .toList()) {
                try {
                    String raw = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8);
                    if (raw.isEmpty()) {
                        continue;
                    }
                    if (argvMatches.test(List.of(raw.split("\0")))) {
                        out.add(Long.parseLong(p.getFileName().toString()));
                    }
                } catch (IOException gone) {
                    // exited meanwhile
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out;
    }

    /**
     * Processes of this test's daemon: shims (cmdline names this test's dir) and processes in this
     * test's pod cgroup ({@code /stevedore/<pod id>}; other daemons on the machine have other pods).
     */
    List<String> leftoverProcesses() {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info()
                                .commandLine()
                                .map(c -> c.contains(dir.toString()) && !c.contains("java"))
                                .orElse(false)
                        || (podId != null && inPodCgroup(p.pid(), podId)))
                .map(p -> p.pid() + " " + p.info().commandLine().orElse(""))
                .toList();
    }

    private static boolean inPodCgroup(long pid, String pod) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "cgroup"))
                    .contains(":/stevedore/" + pod);
        } catch (IOException e) {
            return false;
        }
    }

    static List<String> mountsUnder(Path d) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .map(l -> l.split(" ")[4])
                .filter(m -> m.startsWith(d.toString()))
                .toList();
    }

    static String run(String... cmd) throws Exception {
        var p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }

    // ------------------------------------------------------------------ data helpers

    /** Reads everything {@code in} delivers, in the background, into a buffer the test can poll. */
    static final class Collector {
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
        private final CompletableFuture<Void> done = new CompletableFuture<>();

        Collector(InputStream in) {
            Thread.ofVirtual().start(() -> {
                byte[] b = new byte[8192];
                try {
                    int n;
                    while ((n = in.read(b)) > 0) {
                        synchronized (buf) {
                            buf.write(b, 0, n);
                        }
                    }
                    done.complete(null);
                } catch (IOException e) {
                    done.completeExceptionally(e);
                }
            });
        }

        String text() {
            synchronized (buf) {
                return buf.toString(StandardCharsets.UTF_8);
            }
        }

        CompletableFuture<Void> done() {
            return done;
        }
    }

    /** The SHA-256s of what was sent and what came back. */
    record Transfer(String sent, String received, long receivedBytes) {}

    /**
     * Sends {@code size} pseudo-random bytes to {@code out} while reading the same number back from
     * {@code in} (an echo server at the far end), hashing both sides.
     */
    /** What opens a command session on a URL, whichever protocol. */
    interface Opener {
        CommandStreams open(String url) throws Exception;
    }

    /**
     * 100 concurrent {@code echo exec-N} sessions opened with {@code open}: each gets exactly its own
     * output, and its status passes {@code checkStatus}.
     */
    void assertHundredExecsAtOnce(Opener open, java.util.function.Consumer<String> checkStatus) throws Exception {
        try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            var results = new ArrayList<java.util.concurrent.Future<String>>();
            for (int i = 0; i < 100; i++) {
                int n = i;
                results.add(pool.submit(() -> {
                    try (var c = open.open(execUrl(shell(), List.of("echo", "exec-" + n), false, true, true, false))) {
                        var r = c.collect();
                        checkStatus.accept(r.error());
                        return r.stdout();
                    }
                }));
            }
            for (int i = 0; i < 100; i++) {
                assertEquals("exec-" + i + "\n", results.get(i).get(3, TimeUnit.MINUTES), "exec " + i);
            }
        }
    }

    /**
     * A port-forward session's contract, whichever transport carries the SPDY: 100 MiB echoed intact
     * both ways, the data stream ended after our half-close, and no error for a connection that worked.
     */
    static void assertHundredMebibytesEachWay(SpdyPortForward pf) throws Exception {
        var conn = pf.connect(ECHO_PORT);
        long size = 100L << 20;
        var t = echo(conn.data().output(), conn.data().input(), size);
        assertEquals(size, t.receivedBytes(), "bytes echoed back");
        assertEquals(t.sent(), t.received(), "SHA-256 of what came back");
        conn.data().halfClose();
        assertEquals(-1, conn.data().input().read(), "data stream ends once the pod side closes");
        assertEquals("", conn.error().readAll(), "no error for a connection that worked");
    }

    /** A closed port's error names it, and the same session then still forwards to the open one. */
    static void assertClosedPortThenOpenPort(SpdyPortForward pf) throws Exception {
        var bad = pf.connect(CLOSED_PORT);
        String err = bad.error().readAll();
        org.junit.jupiter.api.Assertions.assertTrue(
                err.contains(Integer.toString(CLOSED_PORT)), "error names the port: " + err);
        var good = pf.connect(ECHO_PORT);
        good.data().output().write("ping\n".getBytes(StandardCharsets.US_ASCII));
        assertEquals("ping\n", new String(good.data().input().readNBytes(5), StandardCharsets.US_ASCII));
        good.data().halfClose();
        assertEquals("", good.error().readAll());
    }

    static Transfer echo(OutputStream out, InputStream in, long size) throws Exception {
        try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            return echo(out, in, size, pool);
        }
    }

    private static Transfer echo(OutputStream out, InputStream in, long size, java.util.concurrent.ExecutorService pool)
            throws Exception {
        var writer = CompletableFuture.supplyAsync(
                () -> {
                    try {
                        var md = MessageDigest.getInstance("SHA-256");
                        var rnd = new SplittableRandom(size);
                        byte[] b = new byte[64 * 1024];
                        for (long left = size; left > 0; ) {
                            int n = (int) Math.min(b.length, left);
                            rnd.nextBytes(b);
                            md.update(b, 0, n);
                            out.write(b, 0, n);
                            left -= n;
                        }
                        out.flush();
                        return HexFormat.of().formatHex(md.digest());
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                },
                pool);
        var md = MessageDigest.getInstance("SHA-256");
        byte[] b = new byte[64 * 1024];
        long got = 0;
        while (got < size) {
            int n = in.read(b, 0, (int) Math.min(b.length, size - got));
            if (n < 0) {
                break;
            }
            md.update(b, 0, n);
            got += n;
        }
        String sent = writer.get(5, TimeUnit.MINUTES);
        return new Transfer(sent, HexFormat.of().formatHex(md.digest()), got);
    }

    /** Runs {@code call} on a virtual thread of its own. */
    static <T> CompletableFuture<T> inBackground(java.util.concurrent.Callable<T> call) {
        var f = new CompletableFuture<T>();
        Thread.ofVirtual().start(() -> {
            try {
                f.complete(call.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    /** Reads until at least one byte arrived (then what is there), as text. */
    static String readSome(InputStream in) throws IOException {
        byte[] b = new byte[4096];
        int n = in.read(b);
        return n < 0 ? "" : new String(b, 0, n, StandardCharsets.UTF_8);
    }
}

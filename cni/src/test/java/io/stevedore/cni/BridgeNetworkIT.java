package io.stevedore.cni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;

/**
 * ADD / CHECK / DEL against Debian's real bridge and host-local plugins, in a network namespace and on a
 * bridge the test creates (never the lab's {@code lab-cni0} or {@code /etc/cni/net.d}). No portmap and no
 * ipMasq, so no iptables state is created. Everything is removed in {@link #cleanUp()}.
 */
@Tag("root")
@EnabledIf("canRun")
class BridgeNetworkIT {
    private static final Path DEBIAN_CNI = Path.of("/usr/lib/cni");
    private static final Path IP_FORWARD = Path.of("/proc/sys/net/ipv4/ip_forward");

    @TempDir
    Path tmp;

    private final String suffix =
            HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(2);
    private final String nsName = "stevedore-it-" + suffix;
    private final String bridge = "sdtest" + suffix;
    private final Path netns = Path.of("/run/netns", nsName);
    private String ipForwardBefore;

    static boolean canRun() {
        return isRootUid()
                && Files.isExecutable(DEBIAN_CNI.resolve("bridge"))
                && Files.isExecutable(DEBIAN_CNI.resolve("host-local"));
    }

    private static boolean isRootUid() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .anyMatch(l -> l.startsWith("Uid:") && l.split("\\s+")[1].equals("0"));
        } catch (IOException e) {
            return false;
        }
    }

    @BeforeEach
    void createNetns() throws Exception {
        ipForwardBefore = Files.readString(IP_FORWARD).strip();
        run("ip", "netns", "add", nsName);
    }

    @AfterEach
    void cleanUp() throws Exception {
        var failures = new ArrayList<String>();
        if (Files.exists(netns)) {
            collect(failures, "ip", "netns", "del", nsName);
        }
        if (Files.exists(Path.of("/sys/class/net", bridge))) {
            collect(failures, "ip", "link", "del", bridge);
        }
        if (!Files.readString(IP_FORWARD).strip().equals(ipForwardBefore)) {
            Files.writeString(IP_FORWARD, ipForwardBefore); // the bridge plugin turns forwarding on for isGateway
        }
        assertFalse(Files.exists(netns), "netns " + nsName + " left behind");
        assertFalse(Files.exists(Path.of("/sys/class/net", bridge)), "bridge " + bridge + " left behind");
        assertEquals(List.of(), failures);
    }

    @Test
    void addCheckDelete_realBridgeAndHostLocal() throws Exception {
        // given
        Path confDir = Files.createDirectories(tmp.resolve("net.d"));
        Path dataDir = tmp.resolve("ipam");
        Files.writeString(confDir.resolve("10-it.conflist"), """
        {"cniVersion":"1.0.0","name":"stevedore-it","plugins":[
          {"type":"bridge","bridge":"%s","isGateway":true,"ipMasq":false,
           "ipam":{"type":"host-local","dataDir":"%s","ranges":[[{"subnet":"10.99.0.0/24"}]],
                   "routes":[{"dst":"0.0.0.0/0"}]}}]}""".formatted(bridge, dataDir));
        var conf = new CniConfDir(confDir);
        assertTrue(conf.reload());
        NetworkConfigList net = conf.require();
        var cni = new CniClient(new CniClientConfig(
                List.of(Path.of("/nonexistent-bin"), DEBIAN_CNI), tmp.resolve("cache"), Duration.ofSeconds(30)));
        String containerId = "it" + suffix;
        RuntimeConf rt = RuntimeConf.of(containerId, netns.toString(), "eth0")
                .withArgs(RuntimeConf.kubernetesPodArgs("default", "it-pod", containerId, "uid-" + suffix));
        cni.validate(net);
        cni.status(net);

        // when
        Result result = cni.add(net, rt);

        // then
        String ip = result.podIp(false).orElseThrow().ip();
        assertTrue(ip.startsWith("10.99.0."), ip);
        assertTrue(run("ip", "netns", "exec", nsName, "ip", "-4", "addr", "show", "eth0")
                .contains(ip + "/24"));
        assertTrue(Files.exists(dataDir.resolve("stevedore-it").resolve(ip)), "host-local reserved " + ip);
        assertTrue(cni.cachedResult(net, rt).isPresent());
        cni.check(net, rt);

        // when
        cni.delete(net, rt);

        // then
        assertFalse(Files.exists(dataDir.resolve("stevedore-it").resolve(ip)), "host-local released " + ip);
        assertFalse(run("ip", "netns", "exec", nsName, "ip", "-4", "addr").contains(ip));
        assertTrue(cni.cachedResult(net, rt).isEmpty());
        cni.delete(net, rt); // idempotent
    }

    private static void collect(List<String> failures, String... cmd) {
        try {
            run(cmd);
        } catch (Exception e) {
            failures.add(e.getMessage());
        }
    }

    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + ": timed out");
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + ": exit " + p.exitValue() + ": " + out);
        }
        return out;
    }
}

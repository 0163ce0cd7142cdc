package io.stevedore.cni;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CniClientTest {
    @TempDir
    Path root;

    FakePlugins fakes;
    Path cacheDir;
    CniClient cni;
    Path netns;

    @BeforeEach
    void setUp() throws IOException {
        fakes = new FakePlugins(root);
        cacheDir = root.resolve("cache");
        netns = Files.createFile(root.resolve("netns"));
        cni = new CniClient(
                new CniClientConfig(List.of(root.resolve("empty-bin"), fakes.bin), cacheDir, Duration.ofSeconds(20)));
    }

    private static NetworkConfigList net(String version, String... plugins) throws CniException {
        return NetworkConfigs.parse("""
        {"cniVersion":"%s","name":"testnet","plugins":[%s]}""".formatted(version, String.join(",", plugins)), "test");
    }

    private RuntimeConf rt(String containerId) {
        return RuntimeConf.of(containerId, netns.toString(), "eth0")
                .withArgs(RuntimeConf.kubernetesPodArgs("default", "web-0", containerId, "uid-1"));
    }

    @Test
    void add_chainsPrevResultAndInjectsNameAndVersion() throws Exception {
        fakes.recording("first", FakePlugins.result("1.0.0", "10.1.0.5"));
        fakes.recording("second", FakePlugins.result("1.0.0", "10.1.0.6"));
        var net = net("1.0.0", "{\"type\":\"first\",\"cniVersion\":\"0.3.1\",\"own\":1}", "{\"type\":\"second\"}");

        Result r = cni.add(net, rt("c1"));

        assertEquals(List.of("ADD first", "ADD second"), fakes.calls());
        ObjectNode first = fakes.stdin("first", "ADD");
        assertEquals("testnet", first.get("name").asText());
        assertEquals("1.0.0", first.get("cniVersion").asText());
        assertEquals(1, first.get("own").asInt());
        assertFalse(first.has("prevResult"));
        JsonNode prev = fakes.stdin("second", "ADD").get("prevResult");
        assertEquals(FakePlugins.JSON.readTree(FakePlugins.result("1.0.0", "10.1.0.5")), prev);
        assertEquals("10.1.0.6", r.podIp(false).orElseThrow().ip());
    }

    @Test
    void add_oldPluginResult_isConvertedForTheNextPlugin() throws Exception {
        fakes.recording("first", """
        {"ips":[{"address":"10.1.0.5/24"}]}""");
        fakes.recording("second", FakePlugins.result("0.4.0", "10.1.0.5"));
        var net = net("0.4.0", "{\"type\":\"first\"}", "{\"type\":\"second\"}");

        Result r = cni.add(net, rt("c1"));

        JsonNode prev = fakes.stdin("second", "ADD").get("prevResult");
        assertEquals("0.4.0", prev.get("cniVersion").asText());
        assertEquals("4", prev.at("/ips/0/version").asText());
        assertEquals(CniVersion.V0_4_0, r.cniVersion());
    }

    @Test
    void add_setsCniEnvironment() throws Exception {
        fakes.recording("first", FakePlugins.result("1.0.0", "10.1.0.5"));

        cni.add(net("1.0.0", "{\"type\":\"first\"}"), rt("c1"));

        Map<String, String> env = fakes.env("first", "ADD");
        assertEquals("ADD", env.get("CNI_COMMAND"));
        assertEquals("c1", env.get("CNI_CONTAINERID"));
        assertEquals(netns.toString(), env.get("CNI_NETNS"));
        assertEquals("eth0", env.get("CNI_IFNAME"));
        assertEquals(
                "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=c1;"
                        + "K8S_POD_UID=uid-1",
                env.get("CNI_ARGS"));
        assertEquals(root.resolve("empty-bin") + ":" + fakes.bin, env.get("CNI_PATH"));
    }

    @Test
    void add_runtimeConfig_onlyHoldsCapabilitiesThePluginDeclares() throws Exception {
        fakes.recording("first", FakePlugins.result("1.0.0", "10.1.0.5"));
        fakes.recording("second", FakePlugins.result("1.0.0", "10.1.0.5"));
        fakes.recording("third", FakePlugins.result("1.0.0", "10.1.0.5"));
        var net = net(
                "1.0.0",
                "{\"type\":\"first\",\"capabilities\":{\"portMappings\":true},\"runtimeConfig\":{\"stale\":1}}",
                "{\"type\":\"second\",\"capabilities\":{\"dns\":true,\"bandwidth\":false,\"ipRanges\":true}}",
                "{\"type\":\"third\"}");
        RuntimeConf rt = rt("c1").withCapability(
                        RuntimeConf.PORT_MAPPINGS, List.of(new PortMapping(8080, 80, "tcp", "")))
                .withCapability(RuntimeConf.DNS, Map.of("servers", List.of("10.96.0.10")))
                .withCapability(RuntimeConf.BANDWIDTH, Map.of("ingressRate", 1000));

        cni.add(net, rt);

        assertEquals(FakePlugins.JSON.readTree("""
        {"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp","hostIP":""}]}"""), fakes.stdin("first", "ADD").get("runtimeConfig"));
        assertEquals(
                FakePlugins.JSON.readTree("{\"dns\":{\"servers\":[\"10.96.0.10\"]}}"),
                fakes.stdin("second", "ADD").get("runtimeConfig"));
        assertFalse(fakes.stdin("third", "ADD").has("runtimeConfig"));
    }

    @Test
    void add_cachesResultInLibcniFormat() throws Exception {
        fakes.recording("first", FakePlugins.result("1.0.0", "10.1.0.5"));
        var net = net("1.0.0", "{\"type\":\"first\",\"capabilities\":{\"portMappings\":true}}");

        cni.add(net, rt("c1").withCapability(RuntimeConf.PORT_MAPPINGS, List.of()));

        Path file = cacheDir.resolve("results/testnet-c1-eth0");
        JsonNode cached = FakePlugins.JSON.readTree(Files.readString(file));
        assertEquals("cniCacheV1", cached.get("kind").asText());
        assertEquals("c1", cached.get("containerId").asText());
        assertEquals("eth0", cached.get("ifName").asText());
        assertEquals("testnet", cached.get("networkName").asText());
        assertEquals(netns.toString(), cached.get("netns").asText());
        assertEquals(
                FakePlugins.JSON.readTree(net.json()),
                FakePlugins.JSON.readTree(new String(
                        Base64.getDecoder().decode(cached.get("config").asText()), StandardCharsets.UTF_8)));
        assertEquals("K8S_POD_NAME", cached.at("/cniArgs/2/0").asText());
        assertTrue(cached.at("/capabilityArgs/portMappings").isArray());
        assertEquals("10.1.0.5/24", cached.at("/result/ips/0/address").asText());
        assertEquals(
                "rw-------",
                java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals(
                "10.1.0.5",
                cni.cachedResult(net, rt("c1"))
                        .orElseThrow()
                        .podIp(false)
                        .orElseThrow()
                        .ip());
    }

    @Test
    void delete_runsReverseOrderWithCachedConfigArgsAndResult_thenDropsCache() throws Exception {
        fakes.recording("first", FakePlugins.result("1.0.0", "10.1.0.5"));
        fakes.recording("second", FakePlugins.result("1.0.0", "10.1.0.6"));
        fakes.recording("third", FakePlugins.result("1.0.0", "10.1.0.7"));
        cni.add(net("1.0.0", "{\"type\":\"first\",\"v\":\"old\"}", "{\"type\":\"second\"}"), rt("c1"));
        var changed = net("1.0.0", "{\"type\":\"third\"}", "{\"type\":\"first\",\"v\":\"new\"}");

        cni.delete(changed, RuntimeConf.of("c1", netns.toString(), "eth0"));

        assertEquals(List.of("ADD first", "ADD second", "DEL second", "DEL first"), fakes.calls());
        ObjectNode del = fakes.stdin("first", "DEL");
        assertEquals("old", del.get("v").asText());
        assertEquals("10.1.0.6/24", del.at("/prevResult/ips/0/address").asText());
        assertTrue(fakes.env("first", "DEL").get("CNI_ARGS").contains("K8S_POD_NAME=web-0"));
        assertFalse(Files.exists(cacheDir.resolve("results/testnet-c1-eth0")));
    }

    @Test
    void delete_withoutCache_usesGivenListAndIsIdempotent() throws Exception {
        fakes.recording("first", FakePlugins.result("1.0.0", "10.1.0.5"));
        fakes.recording("second", FakePlugins.result("1.0.0", "10.1.0.6"));
        var net = net("1.0.0", "{\"type\":\"first\"}", "{\"type\":\"second\"}");

        cni.delete(net, rt("c1"));
        cni.delete(net, rt("c1"));

        assertEquals(List.of("DEL second", "DEL first", "DEL second", "DEL first"), fakes.calls());
        assertFalse(fakes.stdin("first", "DEL").has("prevResult"));
    }

    @Test
    void delete_netnsGone_passesEmptyNetns() throws Exception {
        fakes.recording("first", FakePlugins.result("1.0.0", "10.1.0.5"));
        var net = net("1.0.0", "{\"type\":\"first\"}");
        cni.add(net, rt("c1"));
        Files.delete(netns);

        cni.delete(net, rt("c1"));

        assertEquals("", fakes.env("first", "DEL").get("CNI_NETNS"));
        assertEquals(netns.toString(), fakes.env("first", "ADD").get("CNI_NETNS"));
    }

    @Test
    void delete_v031_passesNoPrevResult() throws Exception {
        fakes.recording("first", FakePlugins.result("0.3.1", "10.1.0.5"));
        var net = net("0.3.1", "{\"type\":\"first\"}");
        cni.add(net, rt("c1"));

        cni.delete(net, rt("c1"));

        assertFalse(fakes.stdin("first", "DEL").has("prevResult"));
    }

    @Test
    void pluginErrorJson_isCarriedIntoException() throws Exception {
        fakes.recording("first", FakePlugins.result("1.0.0", "10.1.0.5"));
        fakes.script("failing", """
        cat >/dev/null
        echo '{"cniVersion":"1.0.0","code":11,"msg":"no IP addresses available","details":"range 10.1.0.0/24 is full"}'
        echo 'some log line' >&2
        exit 1
        """);

        var e = assertThrows(
                CniException.class,
                () -> cni.add(net("1.0.0", "{\"type\":\"first\"}", "{\"type\":\"failing\"}"), rt("c1")));

        assertEquals(
                "add network \"testnet\" for container \"c1\" (interface \"eth0\"): plugin type=\"failing\" failed"
                        + " (ADD): no IP addresses available; range 10.1.0.0/24 is full (code 11)",
                e.getMessage());
        assertEquals(
                new PluginError(11, "no IP addresses available", "range 10.1.0.0/24 is full"),
                e.pluginError().orElseThrow());
        assertFalse(Files.exists(cacheDir.resolve("results/testnet-c1-eth0")));
    }

    @Test
    void pluginFailureWithoutJson_reportsStderrAndStatus() throws Exception {
        fakes.script("crashing", "echo 'panic: boom' >&2\nexit 2\n");

        var e = assertThrows(CniException.class, () -> cni.delete(net("1.0.0", "{\"type\":\"crashing\"}"), rt("c1")));

        assertTrue(e.getMessage().contains("exited with status 2: panic: boom"), e.getMessage());
        assertTrue(e.pluginError().isEmpty());
    }

    @Test
    void timeout_killsPluginAndItsChildren() throws Exception {
        fakes.script("hanging", """
        echo $$ > "%1$s/hanging.pid"
        sleep 600 &
        echo $! > "%1$s/hanging.child"
        wait
        """.formatted(fakes.rec));
        var quick = new CniClient(cni.config().withPluginTimeout(Duration.ofSeconds(2)));

        var e = assertThrows(CniException.class, () -> quick.add(net("1.0.0", "{\"type\":\"hanging\"}"), rt("c1")));

        assertTrue(e.getMessage().contains("timed out after PT2S and was killed"), e.getMessage());
        long pid = Long.parseLong(
                Files.readString(fakes.rec.resolve("hanging.pid")).strip());
        long child = Long.parseLong(
                Files.readString(fakes.rec.resolve("hanging.child")).strip());
        await().atMost(Duration.ofSeconds(10)).until(() -> !running(pid) && !running(child));
    }

    /** Alive and not a zombie (a killed orphan may wait a moment for its new parent to reap it). */
    private static boolean running(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void missingPlugin_errorNamesDirsSearched() throws Exception {
        var e = assertThrows(CniException.class, () -> cni.add(net("1.0.0", "{\"type\":\"nope\"}"), rt("c1")));

        assertTrue(
                e.getMessage()
                        .contains("failed to find plugin \"nope\" in path [" + root.resolve("empty-bin") + ", "
                                + fakes.bin + "]"),
                e.getMessage());
    }

    @Test
    void add_invalidContainerIdOrIfName_isRejectedBeforeRunningPlugins() throws Exception {
        fakes.recording("first", FakePlugins.result("1.0.0", "10.1.0.5"));
        var net = net("1.0.0", "{\"type\":\"first\"}");

        assertThrows(CniException.class, () -> cni.add(net, RuntimeConf.of("../evil", netns.toString(), "eth0")));
        assertThrows(CniException.class, () -> cni.add(net, RuntimeConf.of("c1", netns.toString(), "eth0/x")));
        assertThrows(
                CniException.class, () -> cni.add(net, RuntimeConf.of("c1", netns.toString(), "a-very-long-ifname")));
        assertEquals(List.of(), fakes.calls());
    }

    @Test
    void check_usesCachedResultAsPrevResult() throws Exception {
        fakes.recording("first", FakePlugins.result("1.0.0", "10.1.0.5"));
        fakes.recording("second", FakePlugins.result("1.0.0", "10.1.0.6"));
        var net = net("1.0.0", "{\"type\":\"first\"}", "{\"type\":\"second\"}");
        cni.add(net, rt("c1"));

        cni.check(net, rt("c1"));

        assertEquals(List.of("ADD first", "ADD second", "CHECK first", "CHECK second"), fakes.calls());
        assertEquals(
                "10.1.0.6/24",
                fakes.stdin("first", "CHECK").at("/prevResult/ips/0/address").asText());
    }

    @Test
    void check_unsupportedDisabledOrNotAdded() throws Exception {
        fakes.recording("first", FakePlugins.result("0.3.1", "10.1.0.5"));

        var old = assertThrows(CniException.class, () -> cni.check(net("0.3.1", "{\"type\":\"first\"}"), rt("c1")));
        assertTrue(old.getMessage().contains("does not support CHECK"), old.getMessage());
        var notAdded =
                assertThrows(CniException.class, () -> cni.check(net("1.0.0", "{\"type\":\"first\"}"), rt("c1")));
        assertTrue(notAdded.getMessage().contains("no cached result"), notAdded.getMessage());
        cni.check(NetworkConfigs.parse("""
        {"cniVersion":"1.0.0","name":"n","disableCheck":true,"plugins":[{"type":"first"}]}""", "test"), rt("c1"));
        assertEquals(List.of(), fakes.calls());
    }

    @Test
    void status_v110_asksPluginsAndCarriesTheirError() throws Exception {
        fakes.recording("first", "");
        fakes.script("notready", """
        cat > /dev/null
        echo '{"code":50,"msg":"plugin not available","details":"no IPs left"}'
        exit 1
        """);

        cni.status(net("1.1.0", "{\"type\":\"first\"}"));
        assertEquals(List.of("STATUS first"), fakes.calls());
        assertEquals("", fakes.env("first", "STATUS").get("CNI_CONTAINERID"));

        var e = assertThrows(
                CniException.class, () -> cni.status(net("1.1.0", "{\"type\":\"first\"}", "{\"type\":\"notready\"}")));
        assertEquals(50, e.pluginError().orElseThrow().code());
    }

    @Test
    void status_beforeV110_isReadyWhenPluginsExist() throws Exception {
        fakes.recording("first", "");

        cni.status(net("1.0.0", "{\"type\":\"first\"}"));
        assertEquals(List.of(), fakes.calls());
        var e = assertThrows(
                CniException.class, () -> cni.status(net("1.0.0", "{\"type\":\"first\"}", "{\"type\":\"absent\"}")));
        assertTrue(e.getMessage().contains("failed to find plugin \"absent\""), e.getMessage());
    }

    @Test
    void gc_deletesStaleCachedAttachmentsAndSendsValidAttachments() throws Exception {
        fakes.recording("first", FakePlugins.result("1.1.0", "10.1.0.5"));
        var net = net("1.1.0", "{\"type\":\"first\"}");
        cni.add(net, rt("keep"));
        cni.add(net, rt("stale"));

        cni.gc(net, List.of(new GcAttachment("keep", "eth0")));

        assertEquals(List.of("ADD first", "ADD first", "DEL first", "GC first"), fakes.calls());
        assertEquals("stale", fakes.env("first", "DEL").get("CNI_CONTAINERID"));
        assertEquals(
                FakePlugins.JSON.readTree("[{\"containerID\":\"keep\",\"ifname\":\"eth0\"}]"),
                fakes.stdin("first", "GC").get("cni.dev/valid-attachments"));
        assertTrue(Files.exists(cacheDir.resolve("results/testnet-keep-eth0")));
        assertFalse(Files.exists(cacheDir.resolve("results/testnet-stale-eth0")));
    }

    @Test
    void validate_negotiatesVersionsWithVersionCommand() throws Exception {
        fakes.recording("first", "");
        fakes.script("oldplugin", """
        cat > "%s/oldplugin.VERSION.stdin"
        echo '{"cniVersion":"0.4.0","supportedVersions":["0.3.0","0.3.1","0.4.0"]}'
        """.formatted(fakes.rec));

        assertEquals(
                Set.of("portMappings"),
                cni.validate(net("1.0.0", "{\"type\":\"first\",\"capabilities\":{\"portMappings\":true}}")));
        assertEquals("VERSION", fakes.env("first", "VERSION").get("CNI_COMMAND"));
        var e = assertThrows(CniException.class, () -> cni.validate(net("1.0.0", "{\"type\":\"oldplugin\"}")));
        assertTrue(
                e.getMessage().contains("plugin \"oldplugin\" does not support config version 1.0.0"), e.getMessage());
        assertEquals(
                "1.0.0", fakes.stdin("oldplugin", "VERSION").get("cniVersion").asText());
        assertTrue(cni.version("oldplugin", CniVersion.V0_4_0).supports(CniVersion.V0_4_0));
    }

    @Test
    void gc_beforeV110_onlyDeletesStale_andDisableGcDoesNothing() throws Exception {
        fakes.recording("first", FakePlugins.result("1.0.0", "10.1.0.5"));
        var net = net("1.0.0", "{\"type\":\"first\"}");
        cni.add(net, rt("stale"));
        var disabled = NetworkConfigs.parse("""
        {"cniVersion":"1.1.0","name":"testnet","disableGC":true,"plugins":[{"type":"first"}]}""", "test");

        cni.gc(disabled, List.of());
        cni.gc(net, List.of());

        assertEquals(List.of("ADD first", "DEL first"), fakes.calls());
        assertFalse(Files.exists(cacheDir.resolve("results/testnet-stale-eth0")));
    }

    @Test
    void delete_corruptCacheEntry_usesGivenListAndRemovesEntry() throws Exception {
        fakes.recording("first", FakePlugins.result("1.0.0", "10.1.0.5"));
        Path entry = Files.createDirectories(cacheDir.resolve("results")).resolve("testnet-c1-eth0");
        Files.writeString(entry, "{not json");

        cni.delete(net("1.0.0", "{\"type\":\"first\"}"), rt("c1"));

        assertEquals(List.of("DEL first"), fakes.calls());
        assertFalse(Files.exists(entry));
    }

    @Test
    void add_emptyResult_fails() throws Exception {
        fakes.script("silent", "cat > /dev/null\n");

        var e = assertThrows(CniException.class, () -> cni.add(net("1.0.0", "{\"type\":\"silent\"}"), rt("c1")));

        assertTrue(e.getMessage().contains("plugin type=\"silent\" result: empty"), e.getMessage());
    }

    @Test
    void interrupt_killsPluginAndRestoresFlag() throws Exception {
        fakes.script("hanging", """
        echo $$ > "%1$s/hanging.tmp" && mv "%1$s/hanging.tmp" "%1$s/hanging.pid"
        exec sleep 600
        """.formatted(fakes.rec));
        var outcome = new java.util.concurrent.CompletableFuture<String>();
        Thread caller = Thread.ofVirtual().start(() -> {
            try {
                cni.add(net("1.0.0", "{\"type\":\"hanging\"}"), rt("c1"));
                outcome.complete("returned");
            } catch (CniException e) {
                outcome.complete(e.getMessage() + " interrupted="
                        + Thread.currentThread().isInterrupted());
            }
        });
        Path pidFile = fakes.rec.resolve("hanging.pid");
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(pidFile));
        long pid = Long.parseLong(Files.readString(pidFile).strip());

        caller.interrupt();

        String result = outcome.get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertTrue(result.contains("interrupted and killed") && result.endsWith("interrupted=true"), result);
        await().atMost(Duration.ofSeconds(10)).until(() -> !running(pid));
    }
}

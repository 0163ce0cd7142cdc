package io.stevedore.cni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class NetworkConfigsTest {
    @TempDir
    Path dir;

    private static final String CONFLIST = """
      {"cniVersion":"1.0.0","name":"list-net","plugins":[
        {"type":"bridge","bridge":"br0"},
        {"type":"portmap","capabilities":{"portMappings":true,"bandwidth":false}}]}""";
    private static final String CONF = """
      {"cniVersion":"0.4.0","name":"single-net","type":"ptp","ipam":{"type":"host-local"}}""";

    @Test
    void loadFirst_mixedExtensions_picksFirstByFileName() throws Exception {
        Files.writeString(dir.resolve("20-b.conflist"), CONFLIST);
        Files.writeString(dir.resolve("10-a.conf"), CONF);
        Files.writeString(dir.resolve("99-z.json"), CONFLIST);
        Files.writeString(dir.resolve("00-notes.txt"), "not a config");
        Files.createDirectory(dir.resolve("01-dir.conflist"));

        assertEquals(
                List.of(dir.resolve("10-a.conf"), dir.resolve("20-b.conflist"), dir.resolve("99-z.json")),
                NetworkConfigs.confFiles(dir));
        NetworkConfigList net = NetworkConfigs.loadFirst(dir).orElseThrow();
        assertEquals("single-net", net.name());
        assertEquals(dir.resolve("10-a.conf"), net.source());
    }

    @Test
    void loadFirst_emptyOrMissingDir_isEmpty() throws Exception {
        assertTrue(NetworkConfigs.loadFirst(dir).isEmpty());
        assertTrue(NetworkConfigs.loadFirst(dir.resolve("missing")).isEmpty());
    }

    @Test
    void load_singleConf_isWrappedIntoList() throws Exception {
        Path f = Files.writeString(dir.resolve("10-a.conf"), CONF);

        NetworkConfigList net = NetworkConfigs.load(f);

        assertEquals(CniVersion.V0_4_0, net.cniVersion());
        assertEquals(1, net.plugins().size());
        assertEquals("ptp", net.plugins().getFirst().type());
        JsonNode json = FakePlugins.JSON.readTree(net.json());
        assertEquals("single-net", json.get("name").asText());
        assertEquals(
                "host-local", json.get("plugins").get(0).get("ipam").get("type").asText());
    }

    @Test
    void load_conflist_readsPluginsCapabilitiesAndFlags() throws Exception {
        Path f = Files.writeString(dir.resolve("10.conflist"), """
        {"cniVersions":["0.4.0","1.0.0","9.9.9"],"name":"n","disableCheck":"true","disableGC":true,
         "plugins":[{"type":"bridge","name":"inner"},
                    {"type":"portmap","capabilities":{"portMappings":true,"bandwidth":false}}]}""");

        NetworkConfigList net = NetworkConfigs.load(f);

        assertEquals(CniVersion.V1_0_0, net.cniVersion());
        assertTrue(net.disableCheck());
        assertTrue(net.disableGC());
        assertEquals("type=\"bridge\" name=\"inner\"", net.plugins().get(0).describe());
        assertNull(net.plugins().get(1).name());
        assertEquals(Set.of("portMappings"), net.plugins().get(1).capabilities());
        assertEquals(Set.of("portMappings"), net.capabilities());
    }

    record Case(String desc, String content, String expected) {
        @Override
        public String toString() {
            return desc;
        }
    }

    static Stream<Case> invalidConfigs() {
        return Stream.of(
                new Case("not JSON", "{nope", "invalid JSON"),
                new Case("not an object", "[1,2]", "not a JSON object"),
                new Case("no name", "{\"cniVersion\":\"1.0.0\",\"plugins\":[{\"type\":\"x\"}]}", "no \"name\""),
                new Case(
                        "bad name",
                        "{\"cniVersion\":\"1.0.0\",\"name\":\"a b\",\"type\":\"x\"}",
                        "invalid network name"),
                new Case("no version", "{\"name\":\"n\",\"type\":\"x\"}", "no \"cniVersion\""),
                new Case(
                        "old version",
                        "{\"cniVersion\":\"0.2.0\",\"name\":\"n\",\"type\":\"x\"}",
                        "unsupported cniVersion"),
                new Case("no type", "{\"cniVersion\":\"1.0.0\",\"name\":\"n\"}", "missing \"type\""),
                new Case(
                        "type with slash",
                        "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"../x\"}",
                        "invalid plugin type"),
                new Case("empty plugins", "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[]}", "no plugins"),
                new Case(
                        "plugins not array",
                        "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":{}}",
                        "must be an array"),
                new Case(
                        "plugin without type",
                        "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[{\"type\":\"a\"},{}]}",
                        "plugin 1: missing \"type\""),
                new Case(
                        "capability not boolean",
                        "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"a\",\"capabilities\":{\"dns\":1}}",
                        "must be true or false"),
                new Case(
                        "bad disableCheck",
                        "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"disableCheck\":3,\"plugins\":[{\"type\":\"a\"}]}",
                        "disableCheck"));
    }

    @ParameterizedTest
    @MethodSource("invalidConfigs")
    void loadFirst_invalidFirstFile_errorNamesFileAndReason(Case c) throws Exception {
        Path bad = Files.writeString(dir.resolve("05-bad.conflist"), c.content());
        Files.writeString(dir.resolve("10-good.conflist"), CONFLIST);

        var e = assertThrows(CniException.class, () -> NetworkConfigs.loadFirst(dir));

        assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(c.expected()), e.getMessage());
    }

    @Test
    void confDir_reload_reportsChangesAndKeepsLastGoodOnError() throws Exception {
        var conf = new CniConfDir(dir);
        assertFalse(conf.reload());
        assertThrows(CniException.class, conf::require);

        Files.writeString(dir.resolve("10.conflist"), CONFLIST);
        assertTrue(conf.reload());
        assertFalse(conf.reload());
        assertEquals("list-net", conf.require().name());

        Files.writeString(dir.resolve("05.conf"), CONF);
        assertTrue(conf.reload());
        assertEquals("single-net", conf.require().name());

        Files.writeString(dir.resolve("01.conf"), "{broken");
        var e = assertThrows(CniException.class, conf::reload);
        assertTrue(e.getMessage().contains("01.conf"), e.getMessage());
        assertEquals("single-net", conf.require().name());

        Files.delete(dir.resolve("01.conf"));
        Files.delete(dir.resolve("05.conf"));
        Files.delete(dir.resolve("10.conflist"));
        assertTrue(conf.reload());
        assertTrue(conf.current().isEmpty());
    }

    @Test
    void defaultConfig_emptyDir_writesConflistAndLoopbackAtomically() throws Exception {
        Path confDir = dir.resolve("net.d");

        assertTrue(DefaultNetworkConfig.defaults().writeIfEmpty(confDir));

        try (Stream<Path> files = Files.list(confDir)) {
            assertEquals(
                    Set.of("10-stevedore.conflist", "99-loopback.conf"),
                    Set.copyOf(files.map(p -> p.getFileName().toString()).toList()));
        }
        NetworkConfigList net = NetworkConfigs.loadFirst(confDir).orElseThrow();
        assertEquals("stevedore", net.name());
        assertEquals(CniVersion.V1_0_0, net.cniVersion());
        assertEquals(
                List.of("bridge", "portmap"),
                net.plugins().stream().map(PluginConfig::type).toList());
        assertEquals(Set.of("portMappings"), net.plugins().get(1).capabilities());
        JsonNode bridge = FakePlugins.JSON.readTree(net.plugins().getFirst().json());
        assertEquals("stevedore0", bridge.get("bridge").asText());
        assertTrue(bridge.get("isGateway").asBoolean());
        assertTrue(bridge.get("ipMasq").asBoolean());
        assertEquals("host-local", bridge.at("/ipam/type").asText());
        assertEquals("10.88.0.0/16", bridge.at("/ipam/ranges/0/0/subnet").asText());
        assertEquals("0.0.0.0/0", bridge.at("/ipam/routes/0/dst").asText());
        NetworkConfigList lo = NetworkConfigs.load(confDir.resolve("99-loopback.conf"));
        assertEquals("loopback", lo.plugins().getFirst().type());
    }

    @Test
    void defaultConfig_existingConfig_writesNothing() throws IOException, CniException {
        Files.writeString(dir.resolve("50-mine.conf"), CONF);

        assertFalse(DefaultNetworkConfig.defaults().writeIfEmpty(dir));

        assertEquals(List.of(dir.resolve("50-mine.conf")), NetworkConfigs.confFiles(dir));
    }
}

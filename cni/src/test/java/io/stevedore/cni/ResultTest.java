package io.stevedore.cni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stevedore.cni.internal.ResultCodec;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ResultTest {
    /** The same attachment as each version writes it (0.3.x/0.4.0 carry a per-IP "version"). */
    private static String resultIn(String version) {
        boolean old = version.startsWith("0.");
        return """
        {"cniVersion":"%s",
         "interfaces":[{"name":"cni0","mac":"00:11:22:33:44:55"},
                       {"name":"eth0","mac":"66:77:88:99:aa:bb","mtu":1500,"sandbox":"/var/run/netns/p"}],
         "ips":[{%s"address":"10.88.0.5/16","gateway":"10.88.0.1","interface":1},
                {%s"address":"fd00::5/64","interface":1}],
         "routes":[{"dst":"0.0.0.0/0","gw":"10.88.0.1"}],
         "dns":{"nameservers":["10.96.0.10"],"domain":"cluster.local","search":["svc.cluster.local"]}}""".formatted(version, old ? "\"version\":\"4\"," : "", old ? "\"version\":\"6\"," : "");
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"})
    void parse_everyVersion_givesSameModel(String version) throws Exception {
        Result r = Result.parse(resultIn(version));

        assertEquals(version, r.cniVersion().text());
        assertEquals(
                List.of(
                        new Result.Interface("cni0", "00:11:22:33:44:55", null, null, null, null),
                        new Result.Interface("eth0", "66:77:88:99:aa:bb", 1500, "/var/run/netns/p", null, null)),
                r.interfaces());
        assertEquals(
                List.of(
                        new Result.IpConfig("10.88.0.5/16", "10.88.0.1", 1),
                        new Result.IpConfig("fd00::5/64", null, 1)),
                r.ips());
        assertEquals(List.of(new Result.Route("0.0.0.0/0", "10.88.0.1", null, null, null, null, null)), r.routes());
        assertEquals(
                new Result.Dns(List.of("10.96.0.10"), "cluster.local", List.of("svc.cluster.local"), List.of()),
                r.dns());
        assertEquals("10.88.0.5", r.podIp(false).orElseThrow().ip());
        assertEquals("fd00::5", r.podIp(true).orElseThrow().ip());
    }

    @Test
    void parse_v11Fields_areRead() throws Exception {
        Result r = Result.parse("""
        {"cniVersion":"1.1.0","interfaces":[{"name":"vf0","socketPath":"/run/s.sock","pciID":"0000:00:1f.6"}],
         "routes":[{"dst":"10.0.0.0/8","mtu":1400,"advmss":1360,"priority":5,"table":100,"scope":253}]}""");

        assertEquals("/run/s.sock", r.interfaces().getFirst().socketPath());
        assertEquals("0000:00:1f.6", r.interfaces().getFirst().pciId());
        assertEquals(
                new Result.Route("10.0.0.0/8", null, 1400, 1360, 5, 100, 253),
                r.routes().getFirst());
        assertTrue(r.ips().isEmpty());
        assertEquals(Result.Dns.EMPTY, r.dns());
    }

    @Test
    void podIp_skipsHostInterfaces() throws Exception {
        Result r = Result.parse("""
        {"cniVersion":"1.0.0","interfaces":[{"name":"br"},{"name":"eth0","sandbox":"/x"}],
         "ips":[{"address":"10.0.0.1/24","interface":0},{"address":"10.0.0.2/24","interface":1}]}""");

        assertEquals("10.0.0.2", r.podIp(false).orElseThrow().ip());
        assertFalse(r.podIp(true).isPresent());
    }

    @Test
    void parse_unsupportedOrMalformed_fails() {
        assertTrue(assertThrows(CniException.class, () -> Result.parse("{\"cniVersion\":\"0.2.0\",\"ip4\":{}}"))
                .getMessage()
                .contains("unsupported result version \"0.2.0\""));
        assertTrue(assertThrows(CniException.class, () -> Result.parse("{\"ips\":[]}"))
                .getMessage()
                .contains("no cniVersion"));
        assertTrue(assertThrows(
                        CniException.class,
                        () -> Result.parse("{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.0.0.1\"}]}"))
                .getMessage()
                .contains("CIDR"));
    }

    @Test
    void convert_betweenVersions_fixesIpVersionAndKeepsUnknownKeys() throws Exception {
        ObjectNode v1 = (ObjectNode) FakePlugins.JSON.readTree(resultIn("1.0.0"));
        v1.put("x-extra", "kept");

        ObjectNode v04 = ResultCodec.convert(v1, CniVersion.V0_4_0);
        assertEquals("0.4.0", v04.get("cniVersion").asText());
        assertEquals("4", v04.at("/ips/0/version").asText());
        assertEquals("6", v04.at("/ips/1/version").asText());
        assertEquals("kept", v04.get("x-extra").asText());
        assertNull(v1.at("/ips/0/version").textValue(), "the input is not modified");

        ObjectNode back = ResultCodec.convert(v04, CniVersion.V1_1_0);
        assertEquals("1.1.0", back.get("cniVersion").asText());
        assertFalse(back.at("/ips/0").has("version"));
    }

    @Test
    void convert_missingVersion_takesTarget() throws Exception {
        ObjectNode raw = (ObjectNode) FakePlugins.JSON.readTree("{\"ips\":[{\"address\":\"10.0.0.1/24\"}]}");

        ObjectNode fixed = ResultCodec.convert(raw, CniVersion.V0_3_1);

        assertEquals("0.3.1", fixed.get("cniVersion").asText());
        assertEquals("4", fixed.at("/ips/0/version").asText());
    }
}

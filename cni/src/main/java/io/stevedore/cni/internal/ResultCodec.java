package io.stevedore.cni.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stevedore.cni.CniException;
import io.stevedore.cni.CniVersion;
import io.stevedore.cni.Result;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads results and converts them between versions. 0.3.0 through 1.1.0 share one shape; the only
 * difference that matters is the per-IP {@code "version": "4"|"6"} that 0.3.x/0.4.0 require and 1.x
 * dropped, so converting keeps every other key (unknown ones included) as the plugin wrote it.
 */
public final class ResultCodec {
    private ResultCodec() {}

    /** Parses a result in any supported version into the common model. */
    public static Result parse(String json) throws CniException {
        return parse(Json.object(json, "parse CNI result"));
    }

    /** Parses an already-read result object. */
    public static Result parse(ObjectNode raw) throws CniException {
        String what = "parse CNI result";
        CniVersion version = version(raw, what);
        var interfaces = new ArrayList<Result.Interface>();
        for (JsonNode i : array(raw, "interfaces", what)) {
            String name = Json.text(i, "name", what + ": interface");
            if (name == null) {
                throw new CniException(what + ": an interface has no name");
            }
            interfaces.add(new Result.Interface(
                    name,
                    Json.text(i, "mac", what),
                    Json.integer(i, "mtu", what),
                    Json.text(i, "sandbox", what),
                    Json.text(i, "socketPath", what),
                    Json.text(i, "pciID", what)));
        }
        var ips = new ArrayList<Result.IpConfig>();
        for (JsonNode ip : array(raw, "ips", what)) {
            String address = Json.text(ip, "address", what);
            if (address == null || !address.contains("/")) {
                throw new CniException(what + ": IP address \"" + address + "\" is not in CIDR form");
            }
            ips.add(new Result.IpConfig(address, Json.text(ip, "gateway", what), Json.integer(ip, "interface", what)));
        }
        var routes = new ArrayList<Result.Route>();
        for (JsonNode r : array(raw, "routes", what)) {
            String dst = Json.text(r, "dst", what);
            if (dst == null) {
                throw new CniException(what + ": a route has no dst");
            }
            routes.add(new Result.Route(
                    dst,
                    Json.text(r, "gw", what),
                    Json.integer(r, "mtu", what),
                    Json.integer(r, "advmss", what),
                    Json.integer(r, "priority", what),
                    Json.integer(r, "table", what),
                    Json.integer(r, "scope", what)));
        }
        Result.Dns dns = Result.Dns.EMPTY;
        JsonNode d = raw.get("dns");
        if (d != null && d.isObject()) {
            dns = new Result.Dns(
                    strings(d, "nameservers", what),
                    Json.text(d, "domain", what),
                    strings(d, "search", what),
                    strings(d, "options", what));
        }
        return new Result(version, interfaces, ips, routes, dns);
    }

    /** The result's declared version; results from before 0.3.0 (ip4/ip6 keys) are rejected. */
    public static CniVersion version(JsonNode raw, String what) throws CniException {
        String text = Json.text(raw, "cniVersion", what);
        if (text == null || text.isEmpty()) {
            throw new CniException(what + ": no cniVersion");
        }
        return CniVersion.of(text)
                .orElseThrow(() -> new CniException(what + ": unsupported result version \"" + text + "\""));
    }

    /**
     * Returns a copy of {@code raw} in {@code target}'s version. A result without a {@code cniVersion} is taken
     * to be in {@code target} already, as libcni does for plugins that omit it (containernetworking/cni#895).
     */
    public static ObjectNode convert(ObjectNode raw, CniVersion target) throws CniException {
        ObjectNode copy = raw.deepCopy();
        if (copy.path("cniVersion").asText("").isEmpty()) {
            copy.put("cniVersion", target.text());
        }
        version(copy, "convert CNI result to " + target);
        copy.put("cniVersion", target.text());
        JsonNode ips = copy.get("ips");
        if (ips instanceof ArrayNode arr) {
            for (JsonNode ip : arr) {
                if (!(ip instanceof ObjectNode o)) {
                    continue;
                }
                if (target.atLeast(CniVersion.V1_0_0)) {
                    o.remove("version");
                } else if (!o.has("version")) {
                    o.put("version", o.path("address").asText("").contains(":") ? "6" : "4");
                }
            }
        }
        return copy;
    }

    private static List<JsonNode> array(JsonNode raw, String field, String what) throws CniException {
        JsonNode v = raw.get(field);
        if (v == null || v.isNull()) {
            return List.of();
        }
        if (!v.isArray()) {
            throw new CniException(what + ": \"" + field + "\" must be an array");
        }
        var out = new ArrayList<JsonNode>();
        for (JsonNode e : v) {
            if (!e.isObject()) {
                throw new CniException(what + ": \"" + field + "\" entries must be objects");
            }
            out.add(e);
        }
        return out;
    }

    private static List<String> strings(JsonNode node, String field, String what) throws CniException {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return List.of();
        }
        if (!v.isArray()) {
            throw new CniException(what + ": \"" + field + "\" must be an array of strings");
        }
        var out = new ArrayList<String>();
        for (JsonNode e : v) {
            out.add(e.asText());
        }
        return out;
    }
}

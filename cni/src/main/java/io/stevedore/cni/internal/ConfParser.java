package io.stevedore.cni.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stevedore.cni.CniException;
import io.stevedore.cni.CniVersion;
import io.stevedore.cni.NetworkConfigList;
import io.stevedore.cni.PluginConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/** Parses and validates network configuration (libcni's conf.go rules); every error names its origin. */
public final class ConfParser {
    /** libcni's ValidateNetworkName / ValidateContainerID pattern. */
    public static final Pattern NAME = Pattern.compile("^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$");

    private ConfParser() {}

    /**
     * Parses a {@code .conflist}, or a single plugin config (wrapped into a one-entry list) when the object has
     * no {@code plugins} key.
     *
     * @param origin names the source in errors (a file path, or e.g. "cached config")
     * @param source the file, or {@code null}
     */
    public static NetworkConfigList parse(String text, String origin, Path source) throws CniException {
        String what = "load CNI config " + origin;
        ObjectNode root = Json.object(text, what);
        return root.has("plugins") ? parseList(root, what, source) : parseSingle(root, what, source);
    }

    private static NetworkConfigList parseList(ObjectNode root, String what, Path source) throws CniException {
        String name = name(root, what);
        CniVersion version = version(root, what);
        JsonNode plugins = root.get("plugins");
        if (!plugins.isArray()) {
            throw new CniException(what + ": \"plugins\" must be an array");
        }
        if (plugins.isEmpty()) {
            throw new CniException(what + ": no plugins in list");
        }
        var list = new ArrayList<PluginConfig>();
        int i = 0;
        for (JsonNode p : plugins) {
            if (!p.isObject()) {
                throw new CniException(what + ": plugin " + i + " is not an object");
            }
            list.add(plugin((ObjectNode) p, what + ": plugin " + i));
            i++;
        }
        return new NetworkConfigList(
                name,
                version,
                bool(root, "disableCheck", what),
                bool(root, "disableGC", what),
                list,
                Json.write(root),
                source);
    }

    private static NetworkConfigList parseSingle(ObjectNode root, String what, Path source) throws CniException {
        String name = name(root, what);
        CniVersion version = version(root, what);
        PluginConfig plugin = plugin(root, what);
        ObjectNode wrapped = JsonNodeFactory.instance.objectNode();
        wrapped.put("cniVersion", version.text());
        wrapped.put("name", name);
        wrapped.putArray("plugins").add(root);
        return new NetworkConfigList(
                name, version, false, false, java.util.List.of(plugin), Json.write(wrapped), source);
    }

    private static PluginConfig plugin(ObjectNode p, String what) throws CniException {
        String type = Json.text(p, "type", what);
        if (type == null || type.isEmpty()) {
            throw new CniException(what + ": missing \"type\"");
        }
        if (type.contains("/") || type.equals(".") || type.equals("..")) {
            throw new CniException(what + ": invalid plugin type \"" + type + "\"");
        }
        var caps = new LinkedHashSet<String>();
        JsonNode c = p.get("capabilities");
        if (c != null && !c.isNull()) {
            if (!c.isObject()) {
                throw new CniException(what + ": \"capabilities\" must be an object");
            }
            for (Map.Entry<String, JsonNode> e : c.properties()) {
                if (!e.getValue().isBoolean()) {
                    throw new CniException(what + ": capability \"" + e.getKey() + "\" must be true or false");
                }
                if (e.getValue().booleanValue()) {
                    caps.add(e.getKey());
                }
            }
        }
        return new PluginConfig(type, Json.text(p, "name", what), caps, Json.write(p));
    }

    private static String name(ObjectNode root, String what) throws CniException {
        String name = Json.text(root, "name", what);
        if (name == null || name.isEmpty()) {
            throw new CniException(what + ": no \"name\"");
        }
        if (!NAME.matcher(name).matches()) {
            throw new CniException(what + ": invalid network name \"" + name + "\" (must match " + NAME + ")");
        }
        return name;
    }

    /** {@code cniVersion}, or the newest supported entry of 1.1.0's {@code cniVersions} list. */
    private static CniVersion version(ObjectNode root, String what) throws CniException {
        var candidates = new ArrayList<String>();
        String single = Json.text(root, "cniVersion", what);
        if (single != null) {
            candidates.add(single);
        }
        JsonNode many = root.get("cniVersions");
        if (many != null && !many.isNull()) {
            if (!many.isArray()) {
                throw new CniException(what + ": \"cniVersions\" must be an array");
            }
            many.forEach(v -> candidates.add(v.asText()));
        }
        if (candidates.isEmpty()) {
            throw new CniException(what + ": no \"cniVersion\"");
        }
        Optional<CniVersion> best = candidates.stream()
                .map(CniVersion::of)
                .flatMap(Optional::stream)
                .max(Comparator.naturalOrder());
        return best.orElseThrow(() -> new CniException(
                what + ": unsupported cniVersion " + candidates + " (supported: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0)"));
    }

    /** A boolean, or a string "true"/"false" as libcni also accepts. */
    private static boolean bool(ObjectNode root, String key, String what) throws CniException {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) {
            return false;
        }
        if (v.isBoolean()) {
            return v.booleanValue();
        }
        if (v.isTextual() && (v.asText().equalsIgnoreCase("true") || v.asText().equalsIgnoreCase("false"))) {
            return Boolean.parseBoolean(v.asText());
        }
        throw new CniException(what + ": invalid value " + v + " for \"" + key + "\"");
    }
}

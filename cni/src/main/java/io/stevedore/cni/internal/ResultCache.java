package io.stevedore.cni.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stevedore.cni.CniException;
import io.stevedore.cni.RuntimeConf;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * libcni's on-disk result cache, in its format so other libcni tools can read it:
 * {@code <root>/results/<network>-<containerId>-<ifName>} holding
 * {@code {"kind":"cniCacheV1","containerId","config"(base64 of the list JSON),"ifName","networkName","netns",
 * "cniArgs":[[k,v]..],"capabilityArgs":{..},"result":{..}}}. Files are written atomically, mode 0600.
 * Thread-safe (each call works on whole files).
 */
public final class ResultCache {
    public static final String KIND = "cniCacheV1";

    /** One cached attachment. {@code result} may be {@code null} (a libcni entry without one). */
    public record Entry(String networkName, String configJson, RuntimeConf runtimeConf, ObjectNode result) {}

    private final Path dir;

    public ResultCache(Path root) {
        this.dir = root.resolve("results");
    }

    public Path file(String network, String containerId, String ifName) {
        return dir.resolve(network + "-" + containerId + "-" + ifName);
    }

    public void put(String network, String configJson, RuntimeConf rt, ObjectNode result) throws CniException {
        var f = JsonNodeFactory.instance;
        ObjectNode o = f.objectNode()
                .put("kind", KIND)
                .put("containerId", rt.containerId())
                .put("config", Base64.getEncoder().encodeToString(configJson.getBytes(StandardCharsets.UTF_8)))
                .put("ifName", rt.ifName())
                .put("networkName", network);
        if (!rt.netns().isEmpty()) {
            o.put("netns", rt.netns());
        }
        if (!rt.args().isEmpty()) {
            ArrayNode args = o.putArray("cniArgs");
            rt.args().forEach(a -> args.addArray().add(a.key()).add(a.value()));
        }
        if (!rt.capabilityArgs().isEmpty()) {
            o.set("capabilityArgs", Json.MAPPER.valueToTree(rt.capabilityArgs()));
        }
        o.set("result", result);
        Path file = file(network, rt.containerId(), rt.ifName());
        try {
            Files.createDirectories(dir);
            AtomicFiles.write(file, Json.write(o).getBytes(StandardCharsets.UTF_8), 0600);
        } catch (IOException e) {
            throw new CniException("write CNI result cache " + file + ": " + e, e);
        }
    }

    /** The entry for this attachment, or empty when there is none. */
    public Optional<Entry> get(String network, String containerId, String ifName) throws CniException {
        Path file = file(network, containerId, ifName);
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new CniException("read CNI result cache " + file + ": " + e, e);
        }
        return Optional.of(decode(text, file));
    }

    /** Removes the entry; absent is fine. */
    public void remove(String network, String containerId, String ifName) throws CniException {
        Path file = file(network, containerId, ifName);
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new CniException("remove CNI result cache " + file + ": " + e, e);
        }
    }

    /** Every readable {@code cniCacheV1} entry; unreadable or foreign files are skipped. */
    public List<Entry> list() throws CniException {
        var out = new ArrayList<Entry>();
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> !p.getFileName().toString().startsWith(".")).toList();
        } catch (NoSuchFileException e) {
            return out;
        } catch (IOException e) {
            throw new CniException("list CNI result cache " + dir + ": " + e, e);
        }
        for (Path p : files) {
            try {
                out.add(decode(Files.readString(p), p));
            } catch (IOException | CniException e) {
                // Not ours to judge: libcni's GetCachedAttachments skips such files too.
            }
        }
        return out;
    }

    private static Entry decode(String text, Path file) throws CniException {
        String what = "read CNI result cache " + file;
        ObjectNode o = Json.object(text, what);
        if (!KIND.equals(o.path("kind").asText())) {
            throw new CniException(what + ": unknown kind \"" + o.path("kind").asText() + "\"");
        }
        String containerId = Json.text(o, "containerId", what);
        String ifName = Json.text(o, "ifName", what);
        String network = Json.text(o, "networkName", what);
        String config = Json.text(o, "config", what);
        if (containerId == null || ifName == null || network == null || config == null) {
            throw new CniException(what + ": missing containerId, ifName, networkName or config");
        }
        String configJson;
        try {
            configJson = new String(Base64.getDecoder().decode(config), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new CniException(what + ": config is not base64", e);
        }
        var args = new ArrayList<RuntimeConf.Arg>();
        for (JsonNode pair : o.path("cniArgs")) {
            if (pair.isArray() && pair.size() == 2) {
                args.add(new RuntimeConf.Arg(pair.get(0).asText(), pair.get(1).asText()));
            }
        }
        var caps = new LinkedHashMap<String, Object>();
        JsonNode c = o.get("capabilityArgs");
        if (c != null && c.isObject()) {
            for (Map.Entry<String, JsonNode> e : c.properties()) {
                if (!e.getValue().isNull()) {
                    caps.put(e.getKey(), Json.MAPPER.convertValue(e.getValue(), Object.class));
                }
            }
        }
        var rt = new RuntimeConf(containerId, Json.text(o, "netns", what), ifName, args, caps);
        JsonNode result = o.get("result");
        return new Entry(network, configJson, rt, result instanceof ObjectNode r ? r : null);
    }
}

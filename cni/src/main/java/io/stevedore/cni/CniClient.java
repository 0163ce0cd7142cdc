package io.stevedore.cni;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stevedore.cni.internal.ConfParser;
import io.stevedore.cni.internal.Json;
import io.stevedore.cni.internal.PluginExec;
import io.stevedore.cni.internal.ProcessPluginExec;
import io.stevedore.cni.internal.ResultCache;
import io.stevedore.cni.internal.ResultCodec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Runs CNI operations over a network (libcni's {@code CNIConfig}): ADD, CHECK, DEL, STATUS, GC and VERSION,
 * with libcni's result cache.
 *
 * <p><b>Contract.</b> Thread-safe; holds no lock while a plugin runs, so concurrent operations on different
 * attachments proceed in parallel (plugins serialise among themselves, e.g. host-local's lock). Every plugin
 * invocation is bounded by {@link CniClientConfig#pluginTimeout()}. ADD is not rolled back on failure: call
 * {@link #delete} (which is idempotent) to undo a partial ADD. Every failure is a {@link CniException} whose
 * message names the operation, the network, the container and the plugin, and carries the plugin's own error
 * object when it printed one.
 *
 * {@snippet :
 * var cni = new CniClient(CniClientConfig.defaults());
 * NetworkConfigList net = NetworkConfigs.loadFirst(Path.of("/etc/cni/net.d")).orElseThrow();
 * RuntimeConf rt = RuntimeConf.of(sandboxId, netnsPath, "eth0");
 * Result r = cni.add(net, rt);
 * String podIp = r.podIp(false).orElseThrow().ip();
 * // ...
 * cni.delete(net, rt); // uses the cached config and result; fine when the netns is already gone
 * }
 */
public final class CniClient {
    private final CniClientConfig config;
    private final PluginExec exec;
    private final ResultCache cache;

    public CniClient(CniClientConfig config) {
        this(config, new ProcessPluginExec());
    }

    /** With another way of running plugins (a test seam). */
    public CniClient(CniClientConfig config, PluginExec exec) {
        this.config = Objects.requireNonNull(config, "config");
        this.exec = Objects.requireNonNull(exec, "exec");
        this.cache = new ResultCache(config.cacheDir());
    }

    public CniClientConfig config() {
        return config;
    }

    /**
     * ADD: runs the plugins in order, each given the previous one's result as {@code prevResult}, caches the
     * final result with the list's config and {@code rt}, and returns it.
     */
    public Result add(NetworkConfigList net, RuntimeConf rt) throws CniException {
        String action = describe("add", net, rt);
        validate(rt, action);
        ObjectNode prev = null;
        for (PluginConfig plugin : net.plugins()) {
            byte[] out = invoke("ADD", net, plugin, prev, rt, action);
            String what = action + ": plugin " + plugin.describe() + " result";
            if (new String(out, StandardCharsets.UTF_8).isBlank()) {
                throw new CniException(what + ": empty");
            }
            prev = ResultCodec.convert(Json.object(new String(out, StandardCharsets.UTF_8), what), net.cniVersion());
        }
        Result result;
        try {
            result = ResultCodec.parse(prev);
        } catch (CniException e) {
            throw e.within(action);
        }
        cache.put(net.name(), net.json(), rt, prev);
        return result;
    }

    /**
     * DEL: runs the plugins in reverse order and removes the cache entry. When the attachment is cached, its
     * cached config, CNI args, capability arguments and (0.4.0+) result are used, so a config changed since ADD
     * still deletes what ADD made. A namespace path that no longer exists is passed as an empty
     * {@code CNI_NETNS}, which the spec allows for DEL. Idempotent: deleting twice succeeds.
     */
    public void delete(NetworkConfigList net, RuntimeConf rt) throws CniException {
        String action = describe("delete", net, rt);
        validate(rt, action);
        Attachment a = attachment(net, rt);
        RuntimeConf eff = a.rt;
        if (!eff.netns().isEmpty() && !Files.exists(Path.of(eff.netns()))) {
            eff = eff.withNetns("");
        }
        ObjectNode prev = a.net.cniVersion().atLeast(CniVersion.V0_4_0) ? a.result : null;
        List<PluginConfig> plugins = a.net.plugins();
        for (int i = plugins.size() - 1; i >= 0; i--) {
            invoke("DEL", a.net, plugins.get(i), prev, eff, action);
        }
        cache.remove(net.name(), rt.containerId(), rt.ifName());
    }

    /**
     * CHECK (0.4.0+): runs the plugins in order with the cached result as {@code prevResult}. Does nothing when
     * the list sets {@code disableCheck}.
     *
     * @throws CniException when the version predates CHECK, nothing is cached for the attachment, or a plugin
     *     reports a problem
     */
    public void check(NetworkConfigList net, RuntimeConf rt) throws CniException {
        String action = describe("check", net, rt);
        validate(rt, action);
        if (!net.cniVersion().atLeast(CniVersion.V0_4_0)) {
            throw new CniException(action + ": configuration version " + net.cniVersion() + " does not support CHECK");
        }
        if (net.disableCheck()) {
            return;
        }
        Attachment a = attachment(net, rt);
        if (a.result == null) {
            throw new CniException(action + ": no cached result for the attachment (was it added?)");
        }
        for (PluginConfig plugin : a.net.plugins()) {
            invoke("CHECK", a.net, plugin, a.result, a.rt, action);
        }
    }

    /**
     * Whether the network is ready for ADD. For 1.1.0 every plugin is asked (STATUS); older versions have no
     * STATUS, so the network is ready when every plugin binary exists.
     *
     * @throws CniException when it is not ready; {@link CniException#pluginError()} holds the plugin's reason
     */
    public void status(NetworkConfigList net) throws CniException {
        String action = "status of network \"" + net.name() + "\"";
        for (PluginConfig plugin : net.plugins()) {
            if (net.cniVersion().atLeast(CniVersion.V1_1_0)) {
                invoke("STATUS", net, plugin, null, RuntimeConf.of("", "", ""), action);
            } else {
                findPlugin(plugin.type(), action);
            }
        }
    }

    /**
     * GC: deletes every cached attachment of this network not in {@code valid}, then (1.1.0+) asks each plugin
     * to release whatever else it holds for attachments outside {@code valid} ({@code cni.dev/valid-attachments}).
     * Does nothing when the list sets {@code disableGC}. Every step is tried; failures are reported together.
     */
    public void gc(NetworkConfigList net, Collection<GcAttachment> valid) throws CniException {
        if (net.disableGC()) {
            return;
        }
        String action = "gc network \"" + net.name() + "\"";
        Set<GcAttachment> keep = Set.copyOf(valid);
        var errors = new ArrayList<CniException>();
        for (ResultCache.Entry e : cache.list()) {
            RuntimeConf rt = e.runtimeConf();
            if (e.networkName().equals(net.name()) && !keep.contains(new GcAttachment(rt.containerId(), rt.ifName()))) {
                try {
                    delete(net, rt);
                } catch (CniException ex) {
                    errors.add(ex);
                }
            }
        }
        if (net.cniVersion().atLeast(CniVersion.V1_1_0)) {
            ArrayNode attachments = Json.MAPPER.createArrayNode();
            keep.forEach(k ->
                    attachments.addObject().put("containerID", k.containerId()).put("ifname", k.ifName()));
            for (PluginConfig plugin : net.plugins()) {
                ObjectNode conf = pluginConf(net, plugin, null, RuntimeConf.of("", "", ""));
                conf.set("cni.dev/valid-attachments", attachments);
                conf.set(
                        "cni.dev/attachments",
                        attachments); // the name the spec text used (containernetworking/cni#1101)
                try {
                    run("GC", plugin, conf, RuntimeConf.of("", "", ""), action);
                } catch (CniException ex) {
                    errors.add(ex);
                }
            }
        }
        if (!errors.isEmpty()) {
            var all = new CniException(
                    action + ": " + errors.stream().map(Throwable::getMessage).collect(Collectors.joining("; ")),
                    errors.getFirst());
            errors.stream().skip(1).forEach(all::addSuppressed);
            throw all;
        }
    }

    /** VERSION: what the plugin of {@code type} supports, asked with a config of {@code version}. */
    public PluginVersionInfo version(String type, CniVersion version) throws CniException {
        String action = "get version of plugin \"" + type + "\"";
        Path bin = findPlugin(type, action);
        byte[] out;
        try {
            out = exec.exec(
                    bin,
                    ("{\"cniVersion\":\"" + version.text() + "\"}").getBytes(StandardCharsets.UTF_8),
                    env("VERSION", RuntimeConf.of("", "", "")),
                    config.pluginTimeout());
        } catch (CniException e) {
            throw e.within(action);
        }
        ObjectNode o = Json.object(new String(out, StandardCharsets.UTF_8), action);
        var supported = new ArrayList<String>();
        JsonNode sv = o.get("supportedVersions");
        if (sv != null && sv.isArray()) {
            sv.forEach(v -> supported.add(v.asText()));
        } else {
            supported.addAll(List.of("0.1.0", "0.2.0")); // plugins from before VERSION reported this (spec 0.2.0)
        }
        return new PluginVersionInfo(o.path("cniVersion").asText(""), supported);
    }

    /**
     * Version negotiation (libcni's ValidateNetworkList): every plugin must exist and list the network's
     * version in its VERSION answer.
     *
     * @return the capabilities the network enables
     */
    public Set<String> validate(NetworkConfigList net) throws CniException {
        var problems = new ArrayList<String>();
        for (PluginConfig plugin : net.plugins()) {
            try {
                PluginVersionInfo info = version(plugin.type(), net.cniVersion());
                if (!info.supports(net.cniVersion())) {
                    problems.add("plugin \"%s\" does not support config version %s (supports %s)"
                            .formatted(plugin.type(), net.cniVersion(), info.supportedVersions()));
                }
            } catch (CniException e) {
                problems.add(e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            throw new CniException("validate network \"" + net.name() + "\": " + String.join("; ", problems));
        }
        return new LinkedHashSet<>(net.capabilities());
    }

    /** The result cached by the last successful ADD of this attachment, in the network's version. */
    public Optional<Result> cachedResult(NetworkConfigList net, RuntimeConf rt) throws CniException {
        validate(rt, describe("read cached result", net, rt));
        Optional<ResultCache.Entry> e = cache.get(net.name(), rt.containerId(), rt.ifName());
        if (e.isEmpty() || e.get().result() == null) {
            return Optional.empty();
        }
        return Optional.of(ResultCodec.parse(ResultCodec.convert(e.get().result(), net.cniVersion())));
    }

    /**
     * The executable for plugin {@code type}: the first regular, executable file of that name in the bin dirs.
     *
     * @throws CniException naming the dirs searched when there is none
     */
    public Path findPlugin(String type) throws CniException {
        return findPlugin(type, "find plugin");
    }

    private Path findPlugin(String type, String action) throws CniException {
        if (type.isEmpty() || type.contains("/")) {
            throw new CniException(action + ": invalid plugin name \"" + type + "\"");
        }
        for (Path dir : config.binDirs()) {
            Path p = dir.resolve(type);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p;
            }
        }
        throw new CniException("%s: failed to find plugin \"%s\" in path %s".formatted(action, type, config.binDirs()));
    }

    /** The attachment as cached (config, args, result), or as given when nothing usable is cached. */
    private record Attachment(NetworkConfigList net, RuntimeConf rt, ObjectNode result) {}

    private Attachment attachment(NetworkConfigList net, RuntimeConf rt) throws CniException {
        Optional<ResultCache.Entry> cached;
        try {
            cached = cache.get(net.name(), rt.containerId(), rt.ifName());
        } catch (CniException e) {
            return new Attachment(net, rt, null); // a corrupt entry must not block DEL; libcni drops it too
        }
        if (cached.isEmpty()) {
            return new Attachment(net, rt, null);
        }
        ResultCache.Entry e = cached.get();
        NetworkConfigList list;
        try {
            list = ConfParser.parse(e.configJson(), "cached for network \"" + net.name() + "\"", null);
        } catch (CniException ex) {
            list = net;
        }
        RuntimeConf cachedRt = e.runtimeConf();
        var eff = new RuntimeConf(
                rt.containerId(),
                rt.netns(),
                rt.ifName(),
                cachedRt.args().isEmpty() ? rt.args() : cachedRt.args(),
                cachedRt.capabilityArgs());
        ObjectNode result = null;
        if (e.result() != null) {
            try {
                result = ResultCodec.convert(e.result(), list.cniVersion());
            } catch (CniException ex) {
                result = null; // an unreadable cached result: go on without prevResult, as libcni does
            }
        }
        return new Attachment(list, eff, result);
    }

    private byte[] invoke(
            String command, NetworkConfigList net, PluginConfig plugin, ObjectNode prev, RuntimeConf rt, String action)
            throws CniException {
        return run(command, plugin, pluginConf(net, plugin, prev, rt), rt, action);
    }

    private byte[] run(String command, PluginConfig plugin, ObjectNode conf, RuntimeConf rt, String action)
            throws CniException {
        Path bin = findPlugin(plugin.type(), action);
        try {
            return exec.exec(
                    bin, Json.write(conf).getBytes(StandardCharsets.UTF_8), env(command, rt), config.pluginTimeout());
        } catch (CniException e) {
            throw e.within(action + ": plugin " + plugin.describe() + " failed (" + command + ")");
        }
    }

    /** libcni's buildOneConfig: name, version, prevResult, and runtimeConfig with the declared capabilities. */
    private static ObjectNode pluginConf(NetworkConfigList net, PluginConfig plugin, ObjectNode prev, RuntimeConf rt)
            throws CniException {
        ObjectNode conf = Json.object(plugin.json(), "plugin " + plugin.describe());
        conf.put("name", net.name());
        conf.put("cniVersion", net.cniVersion().text());
        if (prev != null) {
            conf.set("prevResult", prev);
        }
        ObjectNode rc = Json.MAPPER.createObjectNode();
        for (String cap : plugin.capabilities()) {
            Object value = rt.capabilityArgs().get(cap);
            if (value != null) {
                try {
                    rc.set(cap, Json.MAPPER.valueToTree(value));
                } catch (IllegalArgumentException e) {
                    throw new CniException(
                            "capability \"" + cap + "\" is not serialisable to JSON: " + e.getMessage(), e);
                }
            }
        }
        if (!rc.isEmpty()) {
            conf.set("runtimeConfig", rc);
        } else {
            conf.remove("runtimeConfig");
        }
        return conf;
    }

    private Map<String, String> env(String command, RuntimeConf rt) {
        var env = new LinkedHashMap<String, String>();
        env.put("CNI_COMMAND", command);
        env.put("CNI_CONTAINERID", rt.containerId());
        env.put("CNI_NETNS", rt.netns());
        env.put("CNI_IFNAME", rt.ifName());
        env.put("CNI_ARGS", rt.cniArgs());
        env.put("CNI_PATH", config.binDirs().stream().map(Path::toString).collect(Collectors.joining(":")));
        return env;
    }

    private static String describe(String verb, NetworkConfigList net, RuntimeConf rt) {
        return "%s network \"%s\" for container \"%s\" (interface \"%s\")"
                .formatted(verb, net.name(), rt.containerId(), rt.ifName());
    }

    /** libcni's ValidateContainerID and ValidateInterfaceName; they also keep cache file names safe. */
    private static void validate(RuntimeConf rt, String action) throws CniException {
        if (!ConfParser.NAME.matcher(rt.containerId()).matches()) {
            throw new CniException(action + ": invalid container id (must match " + ConfParser.NAME + ")");
        }
        String ifName = rt.ifName();
        if (ifName.isEmpty()
                || ifName.length() > 15
                || ifName.equals(".")
                || ifName.equals("..")
                || ifName.chars().anyMatch(c -> c == '/' || c == ':' || Character.isWhitespace(c))) {
            throw new CniException(action + ": invalid interface name");
        }
    }
}

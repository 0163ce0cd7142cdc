package io.stevedore.cni;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stevedore.cni.internal.AtomicFiles;
import io.stevedore.cni.internal.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The network written when a node has none: {@code 10-stevedore.conflist} (bridge + host-local + portmap)
 * and {@code 99-loopback.conf}. Immutable.
 *
 * {@snippet :
 * DefaultNetworkConfig.defaults().writeIfEmpty(Path.of("/etc/cni/net.d"));
 * }
 *
 * @param name the network name
 * @param bridge the bridge device
 * @param subnet the host-local IPv4 subnet (pods get addresses from it; the bridge takes the gateway)
 * @param cniVersion the version written; 1.0.0 is what Debian's plugins support
 */
public record DefaultNetworkConfig(String name, String bridge, String subnet, CniVersion cniVersion) {
    public static final String CONFLIST_FILE = "10-stevedore.conflist";
    public static final String LOOPBACK_FILE = "99-loopback.conf";

    public DefaultNetworkConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(bridge, "bridge");
        Objects.requireNonNull(subnet, "subnet");
        Objects.requireNonNull(cniVersion, "cniVersion");
    }

    /** Network {@code stevedore}, bridge {@code stevedore0}, subnet {@code 10.88.0.0/16}, version 1.0.0. */
    public static DefaultNetworkConfig defaults() {
        return new DefaultNetworkConfig("stevedore", "stevedore0", "10.88.0.0/16", CniVersion.V1_0_0);
    }

    /**
     * Writes both files when {@code confDir} has no candidate file (see {@link NetworkConfigs}), creating the
     * dir if needed. Each file is written atomically; the conflist goes first so that a concurrent loader
     * never sees the loopback file alone and takes it for the pod network. Not safe against a concurrent
     * writer of the same dir.
     *
     * @return whether the files were written
     */
    public boolean writeIfEmpty(Path confDir) throws CniException {
        if (!NetworkConfigs.confFiles(confDir).isEmpty()) {
            return false;
        }
        try {
            Files.createDirectories(confDir);
            AtomicFiles.write(confDir.resolve(CONFLIST_FILE), bytes(conflist()), 0644);
            AtomicFiles.write(confDir.resolve(LOOPBACK_FILE), bytes(loopback()), 0644);
        } catch (IOException e) {
            throw new CniException("write default CNI config to " + confDir + ": " + e, e);
        }
        return true;
    }

    /** The conflist's JSON. */
    public ObjectNode conflist() {
        var f = JsonNodeFactory.instance;
        ObjectNode root = f.objectNode().put("cniVersion", cniVersion.text()).put("name", name);
        ArrayNode plugins = root.putArray("plugins");
        ObjectNode br = plugins.addObject()
                .put("type", "bridge")
                .put("bridge", bridge)
                .put("isGateway", true)
                .put("ipMasq", true)
                .put("hairpinMode", true);
        ObjectNode ipam = br.putObject("ipam").put("type", "host-local");
        ipam.putArray("routes").addObject().put("dst", "0.0.0.0/0");
        ipam.putArray("ranges").addArray().addObject().put("subnet", subnet);
        plugins.addObject().put("type", "portmap").putObject("capabilities").put(RuntimeConf.PORT_MAPPINGS, true);
        return root;
    }

    /** The loopback config's JSON. */
    public ObjectNode loopback() {
        return JsonNodeFactory.instance
                .objectNode()
                .put("cniVersion", cniVersion.text())
                .put("name", "loopback")
                .put("type", "loopback");
    }

    private static byte[] bytes(ObjectNode node) {
        try {
            return Json.MAPPER
                    .writerWithDefaultPrettyPrinter()
                    .writeValueAsString(node)
                    .concat("\n")
                    .getBytes(StandardCharsets.UTF_8);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}

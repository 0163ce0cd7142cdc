package io.stevedore.conformance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A CNI bridge network of a test's own (bridge, host-local subnet), so root tests running side by
 * side never share one: its conflist and a daemon config pointing at it, and its removal.
 *
 * @param name the CNI network name (also the host-local state directory)
 * @param bridge the bridge interface
 * @param subnet the pods' subnet, e.g. {@code 10.126.0.0/24}
 */
record BridgeNetwork(String name, String bridge, String subnet) {
    /** Writes {@code <dir>/cni/10-test.conflist} and {@code <dir>/stevedore.toml}; returns the latter. */
    Path writeConfig(Path dir) throws IOException {
        Path cni = Files.createDirectories(dir.resolve("cni"));
        Files.writeString(cni.resolve("10-test.conflist"), """
        {"cniVersion": "1.0.0", "name": "%s", "plugins": [
          {"type": "bridge", "bridge": "%s", "isGateway": true,
           "ipam": {"type": "host-local", "ranges": [[{"subnet": "%s"}]]}}]}
        """.formatted(name, bridge, subnet));
        return Files.writeString(dir.resolve("stevedore.toml"), "[cni]\nconf_dir = \"" + cni + "\"\n");
    }

    /** Deletes the bridge and the IP reservations: what the test's pods left on the host. */
    void remove() throws Exception {
        PodContainerIT.run("ip", "link", "del", bridge);
        LiveDaemon.deleteTree(Path.of("/var/lib/cni/networks", name));
    }
}

package io.stevedore.server.info;

import io.stevedore.cni.CniClient;
import io.stevedore.cni.CniException;
import io.stevedore.cni.NetworkConfigList;
import io.stevedore.cni.NetworkConfigs;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Network readiness as containerd and CRI-O report it: ready when the CNI config directory holds a
 * network whose plugins answer CNI STATUS (1.1.0) or, for older networks, all exist in the plugin
 * directories. The network is the first config file by name, as libcni picks it.
 */
public final class CniNetworkReadiness implements NetworkReadiness {
    private final CniClient cni;
    private final Path confDir;

    public CniNetworkReadiness(CniClient cni, Path confDir) {
        this.cni = cni;
        this.confDir = confDir;
    }

    @Override
    public Optional<String> notReadyBecause() {
        try {
            Optional<NetworkConfigList> net = NetworkConfigs.loadFirst(confDir);
            if (net.isEmpty()) {
                return Optional.of("cni: no network config found in " + confDir);
            }
            cni.status(net.get());
            return Optional.empty();
        } catch (CniException e) {
            return Optional.of("cni: " + e.getMessage());
        }
    }
}

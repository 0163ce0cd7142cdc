package io.stevedore.cni;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * The current network of a conf dir, re-read on demand. Thread-safe: {@link #current()} takes no lock;
 * {@link #reload()} is serialised.
 *
 * {@snippet :
 * var conf = new CniConfDir(Path.of("/etc/cni/net.d"));
 * if (conf.reload()) {
 *   log.info("CNI network is now {}", conf.current().map(NetworkConfigList::name).orElse("<none>"));
 * }
 * }
 */
public final class CniConfDir {
    private final Path dir;
    private volatile Optional<NetworkConfigList> current = Optional.empty();

    public CniConfDir(Path dir) {
        this.dir = Objects.requireNonNull(dir, "dir");
    }

    public Path dir() {
        return dir;
    }

    /** The network read by the last successful {@link #reload()}; empty before it or when the dir had none. */
    public Optional<NetworkConfigList> current() {
        return current;
    }

    /** The current network, or an exception saying the dir holds none. */
    public NetworkConfigList require() throws CniException {
        return current.orElseThrow(() -> new CniException("no CNI network config found in " + dir));
    }

    /**
     * Re-reads the dir and reports whether the network (file, or content) differs from before.
     *
     * @throws CniException when the first file is invalid; the previous network is kept
     */
    public synchronized boolean reload() throws CniException {
        Optional<NetworkConfigList> next = NetworkConfigs.loadFirst(dir);
        boolean changed = !next.equals(current);
        current = next;
        return changed;
    }
}

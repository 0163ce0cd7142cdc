package io.stevedore.cni;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How {@link CniClient} finds and runs plugins.
 *
 * @param binDirs directories searched, in order, for plugin executables ({@code CNI_PATH})
 * @param cacheDir the cache root; results live in {@code <cacheDir>/results/<network>-<containerId>-<ifName>},
 *     the same layout libcni uses under {@code /var/lib/cni}
 * @param pluginTimeout how long one plugin invocation may run before it (and its children) are killed
 */
public record CniClientConfig(List<Path> binDirs, Path cacheDir, Duration pluginTimeout) {
    /** Debian installs plugins in {@code /usr/lib/cni}; upstream tarballs go to {@code /opt/cni/bin}. */
    public static final List<Path> DEFAULT_BIN_DIRS = List.of(Path.of("/opt/cni/bin"), Path.of("/usr/lib/cni"));
    /** libcni's default cache root. */
    public static final Path DEFAULT_CACHE_DIR = Path.of("/var/lib/cni");
    /** Generous: IPAM plugins may wait on a lock held by a concurrent invocation. */
    public static final Duration DEFAULT_PLUGIN_TIMEOUT = Duration.ofMinutes(2);

    public CniClientConfig {
        binDirs = List.copyOf(binDirs);
        if (binDirs.isEmpty()) {
            throw new IllegalArgumentException("no CNI bin dirs");
        }
        Objects.requireNonNull(cacheDir, "cacheDir");
        if (pluginTimeout.isNegative() || pluginTimeout.isZero()) {
            throw new IllegalArgumentException("plugin timeout must be positive: " + pluginTimeout);
        }
    }

    /** The defaults above. */
    public static CniClientConfig defaults() {
        return new CniClientConfig(DEFAULT_BIN_DIRS, DEFAULT_CACHE_DIR, DEFAULT_PLUGIN_TIMEOUT);
    }

    public CniClientConfig withBinDirs(List<Path> dirs) {
        return new CniClientConfig(dirs, cacheDir, pluginTimeout);
    }

    public CniClientConfig withCacheDir(Path dir) {
        return new CniClientConfig(binDirs, dir, pluginTimeout);
    }

    public CniClientConfig withPluginTimeout(Duration timeout) {
        return new CniClientConfig(binDirs, cacheDir, timeout);
    }
}

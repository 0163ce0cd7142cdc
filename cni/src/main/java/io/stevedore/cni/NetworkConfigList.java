package io.stevedore.cni;

import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A network: an ordered list of plugins sharing one name and one CNI version ({@code .conflist}; a single
 * {@code .conf} is wrapped into a one-entry list). Load it with {@link NetworkConfigs}.
 *
 * @param name the network name, used in the result cache key and passed to every plugin
 * @param cniVersion the version every plugin is invoked with
 * @param disableCheck when true, {@link CniClient#check} does nothing
 * @param disableGC when true, {@link CniClient#gc} does nothing
 * @param plugins the plugins, in ADD order (DEL runs them in reverse); never empty
 * @param json the whole list as JSON text (what the result cache stores)
 * @param source the file it was loaded from, or {@code null} when it came from elsewhere (bytes, the cache)
 */
public record NetworkConfigList(
        String name,
        CniVersion cniVersion,
        boolean disableCheck,
        boolean disableGC,
        List<PluginConfig> plugins,
        String json,
        Path source) {
    public NetworkConfigList {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(cniVersion, "cniVersion");
        plugins = List.copyOf(plugins);
        if (plugins.isEmpty()) {
            throw new IllegalArgumentException("network \"" + name + "\" has no plugins");
        }
        Objects.requireNonNull(json, "json");
    }

    /** The union of the capabilities its plugins enable, in plugin order. */
    public Set<String> capabilities() {
        var caps = new LinkedHashSet<String>();
        plugins.forEach(p -> caps.addAll(p.capabilities()));
        return caps;
    }
}

package io.stevedore.cni;

import java.util.List;

/**
 * A plugin's answer to the {@code VERSION} command.
 *
 * @param cniVersion the version of the answer itself
 * @param supportedVersions every spec version the plugin accepts, as written by the plugin
 */
public record PluginVersionInfo(String cniVersion, List<String> supportedVersions) {
    public PluginVersionInfo {
        supportedVersions = List.copyOf(supportedVersions);
    }

    /** Whether the plugin accepts configurations of {@code version}. */
    public boolean supports(CniVersion version) {
        return supportedVersions.contains(version.text());
    }
}

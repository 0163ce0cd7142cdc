package io.stevedore.cni;

import java.util.Objects;
import java.util.Set;

/**
 * One plugin's entry in a network configuration list, as written in the file.
 *
 * @param type the plugin's executable name, looked up in the bin dirs
 * @param name the entry's own {@code name}, or {@code null} (the list's name is used when invoking)
 * @param capabilities the capabilities the entry enables ({@code "capabilities": {"portMappings": true}});
 *     only these keys of the runtime's capability arguments reach the plugin's {@code runtimeConfig}
 * @param json the entry's JSON object as text; every key is passed to the plugin unchanged
 */
public record PluginConfig(String type, String name, Set<String> capabilities, String json) {
    public PluginConfig {
        Objects.requireNonNull(type, "type");
        capabilities = Set.copyOf(capabilities);
        Objects.requireNonNull(json, "json");
    }

    /** {@code type="bridge" name="x"}, as in libcni's error messages. */
    public String describe() {
        return name == null ? "type=\"%s\"".formatted(type) : "type=\"%s\" name=\"%s\"".formatted(type, name);
    }
}

package io.stevedore.cni.internal;

import io.stevedore.cni.CniException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/** Runs one plugin binary: the seam between protocol logic and processes. Implementations are thread-safe. */
public interface PluginExec {
    /**
     * Runs {@code plugin} with {@code env} (replacing any inherited {@code CNI_*} variables) and {@code stdin}.
     *
     * @return the plugin's stdout when it exits 0
     * @throws CniException when it cannot start, exits non-zero (carrying its error object), or outlives
     *     {@code timeout} (it and its descendants are killed); when the calling thread is interrupted the plugin
     *     is killed and the interrupt flag is restored
     */
    byte[] exec(Path plugin, byte[] stdin, Map<String, String> env, Duration timeout) throws CniException;
}

package io.stevedore.server.info;

import io.stevedore.oci.runtime.OciRuntime;
import io.stevedore.oci.runtime.OciRuntimeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks each configured runtime what it supports ({@code <runtime> features}), once, at start: the
 * answer does not change while the daemon runs, and the kubelet polls {@code Status} every few
 * seconds. A runtime that fails to answer gets {@link HandlerFeatures#NONE} and a warning: a
 * feature not claimed costs a refused pod, a feature wrongly claimed a broken one.
 */
public final class RuntimeFeatureProbe {
    private static final Logger log = LoggerFactory.getLogger(RuntimeFeatureProbe.class);

    private RuntimeFeatureProbe() {}

    /**
     * @param runtimes the handlers' runtimes by handler name
     * @param defaultHandler whose features the empty name (a pod with no {@code runtime_handler})
     *     reports
     * @return by handler name, the empty name first
     */
    public static Map<String, HandlerFeatures> probe(
            Map<String, ? extends OciRuntime> runtimes, String defaultHandler, boolean kernelHasMountSetattr)
            throws InterruptedException {
        Map<String, HandlerFeatures> byName = new LinkedHashMap<>();
        Map<String, HandlerFeatures> asked = new LinkedHashMap<>();
        for (var e : runtimes.entrySet()) {
            asked.put(e.getKey(), HandlerFeatures.of(features(e.getKey(), e.getValue()), kernelHasMountSetattr));
        }
        byName.put("", asked.getOrDefault(defaultHandler, HandlerFeatures.NONE));
        byName.putAll(asked);
        return byName;
    }

    /** This kernel's answer to {@link HandlerFeatures#kernelHasMountSetattr}. */
    public static boolean thisKernelHasMountSetattr() {
        try {
            return HandlerFeatures.kernelHasMountSetattr(Files.readString(Path.of("/proc/sys/kernel/osrelease")));
        } catch (IOException e) {
            return false;
        }
    }

    private static Optional<io.stevedore.oci.runtime.OciFeatures> features(String handler, OciRuntime runtime)
            throws InterruptedException {
        try {
            var f = runtime.features();
            if (f.isEmpty()) {
                log.atWarn()
                        .addKeyValue("handler", handler)
                        .log(
                                "runtime of handler \"{}\" has no features command: no optional feature is claimed",
                                handler);
            }
            return f;
        } catch (OciRuntimeException e) {
            log.atWarn()
                    .addKeyValue("handler", handler)
                    .log("asking the runtime of handler \"{}\" for its features failed: {}", handler, e.getMessage());
            return Optional.empty();
        }
    }
}

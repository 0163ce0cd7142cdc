package io.stevedore.server.info;

import com.fasterxml.jackson.databind.JsonNode;
import io.stevedore.oci.runtime.OciFeatures;
import java.util.Optional;

/**
 * What one runtime handler can do for a pod, as {@code Status} reports it to the kubelet ({@code
 * RuntimeHandlerFeatures}). The kubelet relies on these flags: it sends recursive read-only mounts
 * and user-namespaced pods only to handlers that claim them, and fails such pods elsewhere, so a
 * flag is set only when both the daemon and the handler's runtime support the feature.
 *
 * @param recursiveReadOnlyMounts the runtime lists {@code rro} among its mount options (runc 1.1+,
 *     crun 1.4+) and the kernel has {@code mount_setattr(2)} (5.12+); the daemon turns a CRI
 *     {@code recursive_read_only} mount into {@code rro}
 * @param userNamespaces the daemon runs user-namespaced pods and the runtime supports id-mapped
 *     mounts ({@code linux.mountExtensions.idmap.enabled}, runc 1.2+)
 */
public record HandlerFeatures(boolean recursiveReadOnlyMounts, boolean userNamespaces) {
    /** What a handler whose runtime could not be asked gets: nothing. */
    public static final HandlerFeatures NONE = new HandlerFeatures(false, false);

    /**
     * Pods with {@code namespace_options.userns_options.mode = POD} are refused (UNIMPLEMENTED) by
     * container spec generation; until they are not, no handler may claim user namespaces,
     * whatever its runtime can do.
     */
    static final boolean USER_NAMESPACE_PODS = false;

    /**
     * @param features the runtime's {@code features} document; empty when it has no such command
     *     (runc before 1.1), which tells us nothing, so nothing is claimed
     * @param kernelHasMountSetattr whether this kernel can make a mount read-only recursively
     */
    public static HandlerFeatures of(Optional<OciFeatures> features, boolean kernelHasMountSetattr) {
        if (features.isEmpty()) return NONE;
        OciFeatures f = features.get();
        boolean rro = kernelHasMountSetattr && f.mountOptions().contains("rro");
        return new HandlerFeatures(rro, USER_NAMESPACE_PODS && idmapMounts(f));
    }

    /** runtime-spec {@code features-linux.md}: {@code linux.mountExtensions.idmap.enabled}. */
    static boolean idmapMounts(OciFeatures f) {
        JsonNode raw = f.raw();
        return raw != null
                && raw.path("linux")
                        .path("mountExtensions")
                        .path("idmap")
                        .path("enabled")
                        .asBoolean(false);
    }

    /**
     * Whether a kernel release ({@code uname -r}, {@code /proc/sys/kernel/osrelease}) has {@code
     * mount_setattr(2)}: 5.12 and later. Vendor kernels that backport it are not recognised; they
     * get no claim rather than a wrong one.
     */
    public static boolean kernelHasMountSetattr(String release) {
        String[] parts = release.strip().split("[.\\-+]", 3);
        if (parts.length < 2) return false;
        try {
            int major = Integer.parseInt(parts[0]);
            int minor = Integer.parseInt(parts[1]);
            return major > 5 || (major == 5 && minor >= 12);
        } catch (NumberFormatException e) {
            return false;
        }
    }
}

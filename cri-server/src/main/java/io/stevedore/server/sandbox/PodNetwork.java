package io.stevedore.server.sandbox;

import io.stevedore.cri.v1.PodSandboxConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** A pod's network: attached to its pinned network namespace by RunPodSandbox, detached by stop. */
public interface PodNetwork {
    /**
     * Attaches the pod's network namespace.
     *
     * @return the pod's IPs, primary first
     * @throws io.stevedore.server.error.CriException.FailedPrecondition when no network is configured
     */
    List<String> setUp(String sandboxId, Path netns, PodSandboxConfig cfg);

    /** Detaches it. Idempotent, and after a failed {@link #setUp} too; fine when the namespace is gone. */
    void tearDown(String sandboxId, Path netns, PodSandboxConfig cfg);

    /**
     * CNI GC: detaches every attachment the network holds for a pod not in {@code attached} (by
     * its cached result), and asks plugins that support it to free what they hold for others.
     * Nothing to do when no network is configured.
     */
    void collectGarbage(Set<String> attached);
}

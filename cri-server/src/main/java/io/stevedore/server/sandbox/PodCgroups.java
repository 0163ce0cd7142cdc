package io.stevedore.server.sandbox;

import io.stevedore.oci.spec.Resources;
import java.io.IOException;

/**
 * The cgroups the sandbox service manages itself: the pod's own parent (when the kubelet gave
 * none), its limits after a resize, and the pause process's cgroup. A path is the cgroupfs-style
 * path the OCI {@code linux.cgroupsPath} takes ({@code /stevedore/<id>}), or a systemd slice name
 * and a path under it ({@code kubepods-besteffort-pod1.slice/<id>}; see {@link
 * io.stevedore.server.host.CgroupPaths}).
 */
public interface PodCgroups {
    /** Creates {@code path} where missing and moves {@code pid} into it. */
    void join(String path, int pid) throws IOException;

    /**
     * Creates {@code path} where missing and sets its cgroup limits: CPU shares, quota and period,
     * cpuset, memory limit, hugepage limits, and (v2) unified keys; a part {@code limits} leaves
     * null is left as it is. A quota or memory limit of -1 removes the limit.
     */
    void set(String path, Resources limits) throws IOException;

    /** Removes {@code path}; best effort (a cgroup with tasks stays). Idempotent. */
    void remove(String path);

    /**
     * The cgroup parent of a pod the kubelet gave none: {@code /stevedore/<id>} for cgroupfs. Under
     * the systemd driver it must be a slice, since runc's systemd driver takes {@code
     * slice:prefix:name} only.
     */
    default String ownParent(String sandboxId) {
        return "/stevedore/" + sandboxId;
    }
}

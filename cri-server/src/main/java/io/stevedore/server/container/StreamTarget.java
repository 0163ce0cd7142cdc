package io.stevedore.server.container;

import io.stevedore.cri.v1.ContainerConfig;
import io.stevedore.oci.linux.Syscalls;
import io.stevedore.oci.runtime.OciRuntime;
import java.nio.file.Path;

/**
 * A running container as a streaming session sees it.
 *
 * @param bundle its bundle directory (exec process files go there)
 * @param shimDir the shim's socket directory ({@code attach.sock}, {@code ctl.sock})
 */
record StreamTarget(
        String id,
        String sandboxId,
        ContainerConfig config,
        OciRuntime runtime,
        Path bundle,
        Path shimDir,
        Syscalls sys) {}

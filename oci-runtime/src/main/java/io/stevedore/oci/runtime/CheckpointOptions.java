package io.stevedore.oci.runtime;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How {@link OciRuntime#checkpoint} runs: where CRIU writes its images ({@code --image-path}) and
 * its log and work files ({@code --work-path}, where {@code dump.log} lands), whether the container
 * keeps running afterwards, and how long the whole dump may take before the runtime and CRIU are
 * killed.
 *
 * {@snippet :
 * var opts = new CheckpointOptions(dir.resolve("checkpoint"), dir, true, Duration.ofMinutes(2));
 * runtime.checkpoint("abc", opts);   // dir/checkpoint/*.img, dir/dump.log
 * }
 *
 * @param imagePath an existing, empty directory for CRIU's images
 * @param workPath an existing directory for CRIU's log and work files
 * @param leaveRunning {@code --leave-running}: the container continues after the dump
 * @param timeout positive; the runtime (and CRIU under it) is killed when it passes
 */
public record CheckpointOptions(Path imagePath, Path workPath, boolean leaveRunning, Duration timeout) {
    public CheckpointOptions {
        Objects.requireNonNull(imagePath, "imagePath");
        Objects.requireNonNull(workPath, "workPath");
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
    }
}

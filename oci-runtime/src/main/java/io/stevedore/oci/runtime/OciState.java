package io.stevedore.oci.runtime;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A container's state as the runtime reports it ({@code runc state}, {@code runc list}): the OCI
 * state plus runc's {@code rootfs} and {@code created} extensions.
 *
 * @param pid the init process's host pid; 0 once stopped
 * @param rootfs null when the runtime does not report it
 * @param created when the container was created; null when the runtime does not report it
 */
public record OciState(
        String ociVersion,
        String id,
        Status status,
        int pid,
        Path bundle,
        Path rootfs,
        Instant created,
        Map<String, String> annotations) {
    public OciState {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(status, "status");
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
    }

    public Optional<Path> rootfsPath() {
        return Optional.ofNullable(rootfs);
    }

    /** Container statuses with their JSON names; {@code pausing} is runc's transient one. */
    public enum Status {
        CREATING,
        CREATED,
        RUNNING,
        PAUSING,
        PAUSED,
        STOPPED;

        /** The status named {@code json} ({@code "running"}…). */
        public static Status of(String json) {
            for (Status s : values()) {
                if (s.json().equals(json)) {
                    return s;
                }
            }
            throw new IllegalArgumentException("unknown container status \"" + json + "\"");
        }

        public String json() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        public boolean canStart() {
            return this == CREATED;
        }

        public boolean canKill() {
            return this == CREATED || this == RUNNING || this == PAUSED;
        }

        public boolean canPause() {
            return this == RUNNING;
        }

        public boolean canResume() {
            return this == PAUSED;
        }

        /** Without {@code --force}: only a stopped (or never started) container can be deleted. */
        public boolean canDelete() {
            return this == STOPPED || this == CREATED;
        }
    }
}

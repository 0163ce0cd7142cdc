package io.stevedore.server.container;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.stevedore.oci.runtime.CheckpointOptions;
import io.stevedore.oci.runtime.OciRuntime;
import io.stevedore.oci.runtime.OciRuntimeException;
import io.stevedore.oci.spec.Mount;
import io.stevedore.oci.spec.Spec;
import io.stevedore.oci.spec.SpecJson;
import io.stevedore.server.container.checkpoint.CheckpointArchive;
import io.stevedore.server.container.checkpoint.RootfsDiff;
import io.stevedore.server.error.CriException;
import io.stevedore.server.state.Dirs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * CheckpointContainer (KEP-2008, forensic container checkpointing), as CRI-O does it: the container
 * is paused (so the files archived match the memory dumped), CRIU dumps it through the OCI runtime
 * ({@code runc checkpoint --leave-running}), its writable layer's changes are archived, it is
 * resumed, and {@link CheckpointArchive} puts it all in one tar at the requested location. The
 * container keeps running: the CRI has no "stop after checkpoint" (containerd and CRI-O leave it
 * running too).
 *
 * <p>Work files (CRIU images, the rootfs diff) go to {@code <root>/checkpoints/<id>-*}, on disk
 * rather than tmpfs since the images are as large as the processes' memory, and are deleted when
 * the call ends; the daemon removes what a crash left there at start.
 *
 * <p>The timeout bounds the dump and the archive; past it the runtime and CRIU are killed and the
 * answer is DEADLINE_EXCEEDED, with nothing left at the location.
 */
final class ContainerCheckpointer {
    /** A request's timeout of 0: the kubelet's own default runtime request timeout. */
    static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(2);

    private static final long MAX_TIMEOUT_SECONDS = 100L * 365 * 24 * 3600;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** Mounted over in every container: never its own changes (CRI-O's containerMounts). */
    private static final Set<String> CONTAINER_MOUNTS =
            Set.of("/dev", "/dev/shm", "/proc", "/run", "/run/.containerenv", "/run/secrets", "/sys");

    private final ContainerEnv env;
    private final Function<String, ContainerRecord> records;

    ContainerCheckpointer(ContainerEnv env, Function<String, ContainerRecord> records) {
        this.env = env;
        this.records = records;
    }

    void checkpoint(String id, String rawLocation, long timeoutSeconds) {
        Path location = CheckpointArchive.location(rawLocation);
        if (timeoutSeconds < 0) {
            throw new CriException.InvalidArgument("timeout: must not be negative (got " + timeoutSeconds + ")");
        }
        Duration timeout = timeoutSeconds == 0
                ? DEFAULT_TIMEOUT
                : Duration.ofSeconds(Math.min(timeoutSeconds, MAX_TIMEOUT_SECONDS));
        ContainerRecord r = records.apply(id);
        String what = "checkpoint container \"" + r.id() + "\"";
        if (!r.status().isRunning()) {
            throw new CriException.FailedPrecondition(what + ": container is "
                    + ContainerRecord.stateName(r.status().state()) + "; only a running container can be checkpointed");
        }
        env.criu().require();
        Instant deadline = env.clock().instant().plus(timeout);
        Spec spec = readSpec(r.id(), what);
        OciRuntime runtime = env.runtime(r.sandboxId());
        Path work = null;
        try {
            Files.createDirectories(env.layout().checkpoints());
            work = Files.createTempDirectory(env.layout().checkpoints(), shortId(r.id()) + "-");
            writeDumps(r, spec, work);
            dump(runtime, r.id(), spec, work, deadline, what);
            Path log = Path.of(r.meta().logPath());
            if (!r.meta().logPath().isEmpty() && Files.isRegularFile(log)) {
                Files.copy(log, work.resolve(CheckpointArchive.CONTAINER_LOG));
            }
            CheckpointArchive.write(work, location, deadline, env.clock());
        } catch (IOException e) {
            throw new UncheckedIOException(what + ": " + e.getMessage(), e);
        } finally {
            if (work != null) deleteTree(work);
        }
    }

    /** Paused: CRIU's dump and the rootfs diff, so that both show the same moment. */
    private void dump(OciRuntime runtime, String id, Spec spec, Path work, Instant deadline, String what)
            throws IOException {
        Path images = Files.createDirectories(work.resolve(CheckpointArchive.CHECKPOINT_DIR));
        call(what + ": pause", () -> runtime.pause(id));
        RuntimeException failure = null;
        try {
            Duration left = Duration.between(env.clock().instant(), deadline);
            if (left.isNegative() || left.isZero()) {
                throw new CriException.DeadlineExceeded(what + ": the timeout passed before the dump");
            }
            call(what, () -> runtime.checkpoint(id, new CheckpointOptions(images, work, true, left)));
            List<String> deleted = RootfsDiff.write(
                    env.layer(id).resolve("upper"), skipped(spec), work.resolve(CheckpointArchive.ROOTFS_DIFF));
            if (!deleted.isEmpty()) {
                JSON.writeValue(work.resolve(CheckpointArchive.DELETED_FILES).toFile(), deleted);
            }
        } catch (RuntimeException e) {
            failure = e;
            throw e;
        } finally {
            try {
                call(what + ": resume", () -> runtime.resume(id));
            } catch (RuntimeException e) {
                if (failure == null) throw e;
                failure.addSuppressed(e); // the first failure says what went wrong
            }
        }
        // runc writes CRIU's statistics beside its images; the archive has them at the top
        Path stats = images.resolve(CheckpointArchive.STATS_DUMP);
        if (Files.exists(stats) && !Files.exists(work.resolve(CheckpointArchive.STATS_DUMP))) {
            Files.copy(stats, work.resolve(CheckpointArchive.STATS_DUMP));
        }
    }

    /** config.dump (checkpointctl's ContainerConfig), spec.dump and bind.mounts. */
    private void writeDumps(ContainerRecord r, Spec spec, Path work) throws IOException {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("id", r.id());
        config.put("name", r.name());
        config.put("rootfsImage", r.imageName());
        config.put("rootfsImageRef", r.imageRef());
        config.put("rootfsImageName", r.imageName());
        config.put("runtime", env.pods().runtimeHandler(r.sandboxId()));
        config.put("createdTime", Instant.ofEpochSecond(0, r.meta().createdAt()).toString());
        config.put("checkpointedTime", env.clock().instant().toString());
        config.put("restored", false);
        JSON.writeValue(work.resolve(CheckpointArchive.CONFIG_DUMP).toFile(), config);
        Files.copy(env.bundle(r.id()).resolve("config.json"), work.resolve(CheckpointArchive.SPEC_DUMP));
        List<Map<String, Object>> binds = new ArrayList<>();
        for (Mount m : spec.mounts()) {
            if (!isBind(m) || CONTAINER_MOUNTS.contains(m.destination()) || m.source() == null) continue;
            Path source = Path.of(m.source());
            if (!Files.exists(source)) continue;
            var perms = Files.getPosixFilePermissions(source);
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("source", m.source());
            b.put("destination", m.destination());
            b.put("file_type", Files.isDirectory(source) ? "directory" : "file");
            b.put("permissions", mode(perms));
            binds.add(b);
        }
        if (!binds.isEmpty()) {
            JSON.writeValue(work.resolve(CheckpointArchive.BIND_MOUNTS).toFile(), binds);
        }
    }

    /** The spec's mount destinations: their content is not the container's change. */
    static Set<String> skipped(Spec spec) {
        Set<String> skip = new TreeSet<>(CONTAINER_MOUNTS);
        for (Mount m : spec.mounts()) {
            skip.add(Path.of(m.destination()).normalize().toString());
        }
        return skip;
    }

    private static boolean isBind(Mount m) {
        return "bind".equals(m.type())
                || m.options().contains("bind")
                || m.options().contains("rbind");
    }

    private Spec readSpec(String id, String what) {
        try {
            return SpecJson.read(env.bundle(id).resolve("config.json"));
        } catch (IOException e) {
            throw new CriException.FailedPrecondition(what + ": its bundle is unreadable: " + e.getMessage());
        }
    }

    private interface RuntimeCall {
        void run() throws OciRuntimeException, InterruptedException;
    }

    /** Runtime failures with the container's context: gone or stopped meanwhile is a precondition. */
    private static void call(String what, RuntimeCall c) {
        try {
            c.run();
        } catch (OciRuntimeException.TimedOut e) {
            throw new CriException.DeadlineExceeded(what + ": " + e.runtimeMessage());
        } catch (OciRuntimeException.NotFound | OciRuntimeException.NotRunning e) {
            throw new CriException.FailedPrecondition(what + ": " + e.runtimeMessage());
        } catch (OciRuntimeException e) {
            throw new IllegalStateException(what + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CriException.Unavailable(what + ": interrupted", e);
        }
    }

    private static int mode(Set<java.nio.file.attribute.PosixFilePermission> perms) {
        int mode = 0;
        for (var p : perms) mode |= 1 << (8 - p.ordinal()); // OWNER_READ (0) is 0400
        return mode;
    }

    /** Removes what a checkpoint cut short by a crash left in the work directory. */
    static void sweep(ContainerEnv env) {
        Path dir = env.layout().checkpoints();
        if (!Files.isDirectory(dir)) return;
        try (var left = Files.list(dir)) {
            left.forEach(ContainerCheckpointer::deleteTree);
        } catch (IOException e) {
            org.slf4j.LoggerFactory.getLogger(ContainerCheckpointer.class)
                    .atWarn()
                    .log("listing checkpoint work directory {} failed: {}", dir, e.getMessage());
        }
    }

    private static String shortId(String id) {
        return id.length() > 12 ? id.substring(0, 12) : id;
    }

    private static void deleteTree(Path dir) {
        try {
            Dirs.deleteTree(dir);
        } catch (IOException e) {
            org.slf4j.LoggerFactory.getLogger(ContainerCheckpointer.class)
                    .atWarn()
                    .log("removing checkpoint work directory {} failed: {}", dir, e.getMessage());
        }
    }
}

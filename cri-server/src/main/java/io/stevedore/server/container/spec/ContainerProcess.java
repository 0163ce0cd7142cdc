package io.stevedore.server.container.spec;

import io.stevedore.cri.v1.ContainerConfig;
import io.stevedore.cri.v1.KeyValue;
import io.stevedore.oci.spec.Process;
import io.stevedore.oci.spec.Spec;
import io.stevedore.oci.spec.Specs;
import io.stevedore.server.error.CriException;
import io.stevedore.server.image.manifest.ImageConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What a container runs: its command, environment and working directory from the image as the CRI
 * config overrides them (containerd's {@code WithProcessArgs}, {@code WithEnv}), and the process
 * of an exec in it. The user is {@link ContainerUser}'s.
 */
final class ContainerProcess {
    private ContainerProcess() {}

    /**
     * containerd's {@code WithProcessArgs}, from Docker: a Kubernetes {@code command} replaces the
     * image's entrypoint and cmd; {@code args} alone replace only the cmd.
     */
    static List<String> args(ContainerConfig config, ImageConfig image, String action) {
        List<String> command = config.getCommandList();
        List<String> args = config.getArgsList();
        if (command.isEmpty()) {
            if (args.isEmpty()) {
                args = image.cmd();
            }
            // ENTRYPOINT [""] is how a Dockerfile clears an inherited entrypoint.
            if (!(image.entrypoint().size() == 1
                    && image.entrypoint().getFirst().isEmpty())) {
                command = image.entrypoint();
            }
        }
        if (command.isEmpty() && args.isEmpty()) {
            throw new CriException.InvalidArgument(action + ": no command specified");
        }
        List<String> out = new ArrayList<>(command);
        out.addAll(args);
        return out;
    }

    /**
     * Merged by key onto the default PATH, in containerd's order: TERM for a terminal, HOSTNAME,
     * the image's env, the CRI's.
     */
    static List<String> env(ContainerConfig config, PodContext pod, ImageConfig image) {
        List<String> env = new ArrayList<>();
        if (config.getTty()) {
            env.add("TERM=xterm");
        }
        String hostname = pod.config().getHostname();
        env.add("HOSTNAME=" + (hostname.isEmpty() ? hostHostname() : hostname));
        env.addAll(image.env());
        for (KeyValue kv : config.getEnvsList()) {
            env.add(kv.getKey() + "=" + kv.getValue().toStringUtf8());
        }
        return env;
    }

    static String cwd(ContainerConfig config, ImageConfig image) {
        if (!config.getWorkingDir().isEmpty()) {
            return config.getWorkingDir();
        }
        return image.workingDir().isEmpty() ? "/" : image.workingDir();
    }

    /** See {@link ContainerSpecGenerator#execProcess}. */
    static Process exec(Spec containerSpec, List<String> cmd, boolean tty) {
        Process p = Objects.requireNonNull(containerSpec.process(), "container spec has no process");
        if (cmd.isEmpty()) {
            throw new CriException.InvalidArgument("exec: no command specified");
        }
        Spec s = containerSpec.withProcess(p.withArgs(cmd).withTerminal(tty).withConsoleSize(null));
        return (tty ? Specs.withEnv(List.of("TERM=xterm")).apply(s) : s).process();
    }

    /** containerd falls back to {@code os.Hostname()} when the pod names none. */
    private static String hostHostname() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        } catch (IOException e) {
            throw new UncheckedIOException("read the host's hostname", e);
        }
    }
}

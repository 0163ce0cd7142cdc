package io.stevedore.oci.runtime;

import java.io.File;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Stdio for a process the runtime leaves running ({@code create}, {@code exec --detach}): the
 * container inherits the runtime's stdio, so these must be files, {@code /dev/null} or the caller's
 * own; pipes are refused because a container keeping one open would block the call.
 */
public record ContainerIo(Redirect stdin, Redirect stdout, Redirect stderr) {
    private static final Redirect NULL_INPUT = Redirect.from(new File("/dev/null"));

    public ContainerIo {
        Objects.requireNonNull(stdin, "stdin");
        Objects.requireNonNull(stdout, "stdout");
        Objects.requireNonNull(stderr, "stderr");
        if (stdin.type() == Redirect.Type.PIPE
                || stdout.type() == Redirect.Type.PIPE
                || stderr.type() == Redirect.Type.PIPE) {
            throw new IllegalArgumentException(
                    "container stdio must not be a pipe: " + stdin + ", " + stdout + ", " + stderr);
        }
    }

    /** stdin from {@code /dev/null}, output discarded. */
    public static ContainerIo none() {
        return new ContainerIo(NULL_INPUT, Redirect.DISCARD, Redirect.DISCARD);
    }

    /** stdin from {@code /dev/null}, output appended to the given files. */
    public static ContainerIo toFiles(Path stdout, Path stderr) {
        return new ContainerIo(NULL_INPUT, Redirect.appendTo(stdout.toFile()), Redirect.appendTo(stderr.toFile()));
    }
}

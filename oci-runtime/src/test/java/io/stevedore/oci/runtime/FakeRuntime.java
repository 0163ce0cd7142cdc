package io.stevedore.oci.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * A shell script with runc's command line, in a test's temp dir: it records each argv (one
 * argument per line, then {@code --}) and, for subcommand {@code X}, sources {@code X.sh} if the
 * test wrote one. Canned scripts see {@code $dir}, {@code $log} (the {@code --log} path) and
 * {@code $id} (the last argument).
 */
final class FakeRuntime {
    final Path dir;
    final Path binary;

    private FakeRuntime(Path dir, Path binary) {
        this.dir = dir;
        this.binary = binary;
    }

    static FakeRuntime in(Path dir) throws IOException {
        Path binary = dir.resolve("runc");
        Files.writeString(binary, """
        #!/bin/bash
        dir='%s'
        { printf '%%s\\n' "$0" "$@"; echo --; } >> "$dir/argv"
        log=''
        while [ $# -gt 0 ]; do
          case "$1" in
            --root|--log-format) shift 2 ;;
            --log) log="$2"; shift 2 ;;
            --systemd-cgroup) shift ;;
            *) break ;;
          esac
        done
        cmd="$1"
        id="${@: -1}"
        if [ -f "$dir/$cmd.sh" ]; then . "$dir/$cmd.sh"; fi
        exit 0
        """.formatted(dir));
        Files.setPosixFilePermissions(binary, PosixFilePermissions.fromString("rwxr-xr-x"));
        return new FakeRuntime(dir, binary);
    }

    /** Makes subcommand {@code command} run {@code script} (bash). */
    FakeRuntime on(String command, String script) throws IOException {
        Files.writeString(dir.resolve(command + ".sh"), script);
        return this;
    }

    /** Makes {@code command} fail the way runc does: a JSON log line, the same text on stderr, exit 1. */
    FakeRuntime failing(String command, String message) throws IOException {
        return on(command, """
        printf '{"level":"error","msg":"%%s","time":"2026-01-01T00:00:00Z"}\\n' '%1$s' >> "$log"
        echo '%1$s' >&2
        exit 1
        """.formatted(message));
    }

    /** Every recorded argv, in call order. */
    List<List<String>> calls() throws IOException {
        List<List<String>> calls = new ArrayList<>();
        Path argv = dir.resolve("argv");
        if (!Files.exists(argv)) {
            return calls;
        }
        List<String> current = new ArrayList<>();
        for (String line : Files.readAllLines(argv)) {
            if (line.equals("--")) {
                calls.add(List.copyOf(current));
                current.clear();
            } else {
                current.add(line);
            }
        }
        return calls;
    }

    List<String> lastCall() throws IOException {
        List<List<String>> calls = calls();
        return calls.get(calls.size() - 1);
    }
}

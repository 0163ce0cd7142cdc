package io.stevedore.oci.runtime;

import java.io.File;
import java.io.FileNotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds the programs the daemon runs (an OCI runtime, CRIU) the way a shell would: a name with a
 * slash is a path, a bare name is looked up on the daemon's {@code PATH}. Stateless.
 */
public final class Executables {
    private Executables() {}

    /**
     * The absolute path of {@code binary}.
     *
     * @param what how a failure names the program, e.g. {@code OCI runtime}
     * @throws FileNotFoundException if it is not an executable file, or not on {@code PATH}
     */
    public static Path find(String binary, String what) throws FileNotFoundException {
        if (binary.contains("/")) {
            Path p = Path.of(binary).toAbsolutePath();
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p;
            }
            throw new FileNotFoundException(what + " " + p + " is not an executable file");
        }
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path p = Path.of(dir, binary);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p.toAbsolutePath();
            }
        }
        throw new FileNotFoundException(what + " \"" + binary + "\" not found on PATH (" + path + ")");
    }
}

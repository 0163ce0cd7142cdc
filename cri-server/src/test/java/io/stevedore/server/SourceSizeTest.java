package io.stevedore.server;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No main source file of the daemon over {@value #MAX_LINES} lines (STYLE C11, issue 12). A file
 * that grows past it is split by operation ({@code ContainerMounts} beside the spec generator),
 * never into a {@code *Utils} grab-bag.
 */
class SourceSizeTest {
    static final int MAX_LINES = 400;

    /**
     * {@code src/main/java} of this module. Surefire runs tests in the module directory and sets
     * {@code basedir}; an IDE may run them elsewhere, so both are tried, and the package directory
     * is checked so that another module's tree is never measured by mistake.
     */
    private static Path mainSources() {
        for (String base : new String[] {System.getProperty("basedir"), "."}) {
            if (base == null) {
                continue;
            }
            Path root = Path.of(base, "src", "main", "java").toAbsolutePath().normalize();
            if (Files.isDirectory(root.resolve(Path.of("io", "stevedore", "server")))) {
                return root;
            }
        }
        return fail("no cri-server src/main/java/io/stevedore/server under basedir "
                + System.getProperty("basedir") + " or the working directory "
                + Path.of("").toAbsolutePath() + "; run this test from the cri-server module");
    }

    private static long lines(Path file) {
        try (Stream<String> lines = Files.lines(file, StandardCharsets.UTF_8)) {
            return lines.count();
        } catch (IOException e) {
            return fail("read " + file + ": " + e);
        }
    }

    @Test
    void mainSources_haveNoFileOver400Lines() throws IOException {
        Path root = mainSources();
        List<Path> files;
        try (Stream<Path> walk = Files.walk(root)) {
            files = walk.filter(p -> p.toString().endsWith(".java") && Files.isRegularFile(p))
                    .sorted()
                    .toList();
        }
        assertTrue(files.size() > 10, "only " + files.size() + " .java files under " + root);

        List<String> over = new ArrayList<>();
        for (Path f : files) {
            long n = lines(f);
            if (n > MAX_LINES) {
                over.add(root.relativize(f) + " (" + n + " lines)");
            }
        }
        if (!over.isEmpty()) {
            fail(over.size() + " main source file(s) over " + MAX_LINES + " lines; split them by operation (STYLE"
                    + " C11):\n  " + String.join("\n  ", over));
        }
    }
}

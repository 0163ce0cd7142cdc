package io.stevedore.cni;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fake CNI plugins: small shell scripts in a temp bin dir that record each call (command, env, stdin) under
 * {@code rec/} and answer with canned output.
 */
final class FakePlugins {
    static final ObjectMapper JSON = new ObjectMapper();

    final Path bin;
    final Path rec;

    FakePlugins(Path root) throws IOException {
        bin = Files.createDirectories(root.resolve("bin"));
        rec = Files.createDirectories(root.resolve("rec"));
    }

    /** A plugin that records its call and prints {@code addResult} on ADD and a version answer on VERSION. */
    Path recording(String name, String addResult) throws IOException {
        return script(name, """
        stdin=$(cat)
        printf '%%s' "$stdin" > "%1$s/%2$s.$CNI_COMMAND.stdin"
        env | grep '^CNI_' | sort > "%1$s/%2$s.$CNI_COMMAND.env"
        echo "$CNI_COMMAND %2$s" >> "%1$s/calls"
        case "$CNI_COMMAND" in
          ADD) cat <<'EOF'
        %3$s
        EOF
          ;;
          VERSION) echo '{"cniVersion":"1.0.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}' ;;
        esac
        """.formatted(rec, name, addResult));
    }

    /** A plugin whose body is {@code body} (after a {@code #!/bin/sh} line). */
    Path script(String name, String body) throws IOException {
        Path p = bin.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    /** The calls so far, as {@code "ADD bridge"} lines in order. */
    List<String> calls() throws IOException {
        try {
            return Files.readAllLines(rec.resolve("calls"));
        } catch (NoSuchFileException e) {
            return List.of();
        }
    }

    ObjectNode stdin(String name, String command) throws IOException {
        return (ObjectNode) JSON.readTree(Files.readString(rec.resolve(name + "." + command + ".stdin")));
    }

    Map<String, String> env(String name, String command) throws IOException {
        var env = new LinkedHashMap<String, String>();
        for (String line : Files.readAllLines(rec.resolve(name + "." + command + ".env"))) {
            int eq = line.indexOf('=');
            env.put(line.substring(0, eq), line.substring(eq + 1));
        }
        return env;
    }

    /** A 1.0.0-shaped result with one sandbox interface and {@code ip}. */
    static String result(String version, String ip) {
        return """
        {"cniVersion":"%s","interfaces":[{"name":"cni0","mac":"aa:bb:cc:dd:ee:01"},
        {"name":"eth0","mac":"aa:bb:cc:dd:ee:02","sandbox":"/run/netns/x"}],
        "ips":[{"address":"%s/24","gateway":"10.1.0.1","interface":1}],
        "routes":[{"dst":"0.0.0.0/0"}],"dns":{"nameservers":["10.1.0.10"]}}""".formatted(version, ip).replace("\n", "");
    }
}

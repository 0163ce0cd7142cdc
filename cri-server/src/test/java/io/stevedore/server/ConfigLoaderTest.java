package io.stevedore.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    private DaemonConfig load(String toml) throws IOException, ConfigException {
        Path f = dir.resolve("stevedore.toml");
        Files.writeString(f, toml);
        return new ConfigLoader().load(f, true);
    }

    @Test
    void load_missingDefaultFile_givesDefaults() throws ConfigException {
        assertEquals(DaemonConfig.defaults(), new ConfigLoader().load(dir.resolve("absent.toml"), false));
    }

    @Test
    void load_missingExplicitFile_fails() {
        var e = assertThrows(ConfigException.class, () -> new ConfigLoader().load(dir.resolve("absent.toml"), true));
        assertEquals(dir.resolve("absent.toml") + ": no such file", e.getMessage());
    }

    @Test
    void load_emptyFile_givesDefaults() throws Exception {
        assertEquals(DaemonConfig.defaults(), load(""));
    }

    @Test
    void load_everyKey_isRead() throws Exception {
        var c = load("""
        root = "/srv/sd"
        run_root = "/run/sd"
        socket_group = "kube"
        shutdown_timeout = "1500ms"
        [log]
        level = "debug"
        file = "/var/log/sd.log"
        [runtime]
        cgroup_driver = "systemd"
        default_handler = "crun"
        [runtime.handlers.crun]
        path = "/usr/bin/crun"
        root = "/run/crun"
        [cni]
        conf_dir = "/etc/sd/net.d"
        bin_dirs = ["/opt/sd/cni"]
        [image]
        registry_config_dir = "/etc/sd/certs.d"
        max_concurrent_downloads = 5
        no_progress_timeout = "30s"
        max_layer_size = 1048576
        max_image_size = 68719476737
        [stream]
        address = "::1"
        port = 10010
        idle_timeout = "30m"
        tls_cert = "/etc/sd/tls.crt"
        tls_key = "/etc/sd/tls.key"

        [limits]
        exec_sync_output = 65536
        """);
        assertEquals(Path.of("/srv/sd"), c.root());
        assertEquals(Path.of("/run/sd/stevedore.sock"), c.socket(), "the socket follows run_root");
        assertEquals("kube", c.socketGroup());
        assertEquals(Duration.ofMillis(1500), c.shutdownTimeout());
        assertEquals(DaemonConfig.LogLevel.DEBUG, c.logLevel());
        assertEquals(Optional.of(Path.of("/var/log/sd.log")), c.logFile());
        assertEquals(DaemonConfig.CgroupDriver.SYSTEMD, c.cgroupDriver());
        assertEquals("crun", c.defaultRuntimeHandler());
        assertEquals(
                new DaemonConfig.RuntimeHandler("/usr/bin/crun", Optional.of(Path.of("/run/crun"))),
                c.runtimeHandlers().get("crun"));
        assertEquals(2, c.runtimeHandlers().size(), "runc stays configured");
        assertEquals(List.of(Path.of("/opt/sd/cni")), c.cniBinDirs());
        assertEquals(
                new DaemonConfig.Images(
                        Path.of("/etc/sd/certs.d"), 5, Duration.ofSeconds(30), 1L << 20, (64L << 30) + 1),
                c.images());
        assertEquals(
                new DaemonConfig.Stream(
                        "::1",
                        10010,
                        Duration.ofMinutes(30),
                        Optional.of(Path.of("/etc/sd/tls.crt")),
                        Optional.of(Path.of("/etc/sd/tls.key"))),
                c.stream());
        assertEquals(new DaemonConfig.Limits(65536), c.limits());
    }

    @Test
    void load_noStreamTable_givesLoopbackEphemeralPlainHttp() throws Exception {
        var s = load("").stream();
        assertEquals(
                new DaemonConfig.Stream("127.0.0.1", 0, Duration.ofHours(4), Optional.empty(), Optional.empty()), s);
    }

    record Case(String desc, String toml, String error) {
        @Override
        public String toString() {
            return desc;
        }
    }

    static Stream<Case> badFiles() {
        return Stream.of(
                new Case("unknown top key", "rooot = \"/x\"", "rooot: unknown key"),
                new Case("unknown nested key", "[log]\nlevle = \"info\"", "log.levle: unknown key"),
                new Case("unknown table", "[logging]\nlevel = \"info\"", "logging: unknown key"),
                new Case(
                        "bad level",
                        "[log]\nlevel = \"loud\"",
                        "log.level: must be one of trace, debug, info, warn, error (got \"loud\")"),
                new Case("relative path", "root = \"var/lib\"", "root: must be an absolute path (got \"var/lib\")"),
                new Case("wrong type", "root = 5", "root: must be a string (got 5)"),
                new Case("table expected", "log = \"x\"", "log: must be a table"),
                new Case(
                        "bad duration",
                        "shutdown_timeout = \"soon\"",
                        "shutdown_timeout: must be a duration such as \"500ms\", \"10s\" or \"2m\" (got \"soon\")"),
                new Case(
                        "unknown handler",
                        "[runtime]\ndefault_handler = \"kata\"",
                        "runtime.default_handler: no handler \"kata\" in [runtime.handlers]"),
                new Case(
                        "unknown handler key",
                        "[runtime.handlers.runc]\nbinary = \"/x\"",
                        "runtime.handlers.runc.binary: unknown key"),
                new Case(
                        "bin dirs not paths",
                        "[cni]\nbin_dirs = [1]",
                        "cni.bin_dirs: must be an array of paths (got 1)"),
                new Case(
                        "zero downloads",
                        "[image]\nmax_concurrent_downloads = 0",
                        "image.max_concurrent_downloads: must be a whole number of at least 1 (got 0)"),
                new Case(
                        "zero layer size",
                        "[image]\nmax_layer_size = 0",
                        "image.max_layer_size: must be a whole number of at least 1 (got 0)"),
                new Case(
                        "image size as a string",
                        "[image]\nmax_image_size = \"64GiB\"",
                        "image.max_image_size: must be a whole number of at least 1 (got \"64GiB\")"),
                new Case("unknown image key", "[image]\nmirrors = []", "image.mirrors: unknown key"),
                new Case(
                        "stream port too big",
                        "[stream]\nport = 70000",
                        "stream.port: must be a whole number from 0 to 65535 (got 70000)"),
                new Case(
                        "stream port negative",
                        "[stream]\nport = -1",
                        "stream.port: must be a whole number from 0 to 65535 (got -1)"),
                new Case(
                        "stream cert without key",
                        "[stream]\ntls_cert = \"/c.pem\"",
                        "stream.tls_key: tls_cert and tls_key must be set together"),
                new Case(
                        "stream key without cert",
                        "[stream]\ntls_key = \"/k.pem\"",
                        "stream.tls_cert: tls_cert and tls_key must be set together"),
                new Case(
                        "stream zero idle", "[stream]\nidle_timeout = \"0s\"", "stream.idle_timeout: must be positive"),
                new Case("stream empty address", "[stream]\naddress = \"\"", "stream.address: must not be empty"),
                new Case(
                        "exec output too large",
                        "[limits]\nexec_sync_output = 16777216",
                        "limits.exec_sync_output: must be a whole number from 4096 to 16711680 (got 16777216)"),
                new Case("unknown stream key", "[stream]\nbind = \"x\"", "stream.bind: unknown key"),
                new Case(
                        "socket group with a space",
                        "socket_group = \"kube admins\"",
                        "socket_group: must be a group name or a numeric gid (got \"kube admins\")"),
                new Case(
                        "socket group negative",
                        "socket_group = \"-5\"",
                        "socket_group: must be a group name or a numeric gid (got \"-5\")"),
                new Case("socket group a number", "socket_group = 5", "socket_group: must be a string (got 5)"));
    }

    @ParameterizedTest
    @MethodSource("badFiles")
    void load_badFile_namesFileAndKey(Case c) {
        var e = assertThrows(ConfigException.class, () -> load(c.toml()));
        assertEquals(dir.resolve("stevedore.toml") + ": " + c.error(), e.getMessage());
    }

    @Test
    void load_notToml_saysSo() {
        var e = assertThrows(ConfigException.class, () -> load("root = "));
        assertEquals(
                true, e.getMessage().startsWith(dir.resolve("stevedore.toml") + ": not valid TOML"), e.getMessage());
    }
}

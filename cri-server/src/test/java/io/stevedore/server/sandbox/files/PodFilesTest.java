package io.stevedore.server.sandbox.files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.cri.v1.DNSConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class PodFilesTest {
    private static final String HOST_RESOLV = "# host\nnameserver 10.0.0.2\nsearch lab\n";

    @TempDir
    Path tmp;

    record Case(String desc, DNSConfig dns, String want) {
        @Override
        public String toString() {
            return desc;
        }
    }

    static Stream<Case> dnsCases() {
        return Stream.of(
                new Case(
                        "kubelet's ClusterFirst",
                        DNSConfig.newBuilder()
                                .addServers("10.96.0.10")
                                .addAllSearches(
                                        List.of("default.svc.cluster.local", "svc.cluster.local", "cluster.local"))
                                .addOptions("ndots:5")
                                .build(),
                        "search default.svc.cluster.local svc.cluster.local cluster.local\n"
                                + "nameserver 10.96.0.10\n"
                                + "options ndots:5\n"),
                new Case(
                        "two servers, one line each",
                        DNSConfig.newBuilder()
                                .addServers("1.2.3.4")
                                .addServers("fd00::53")
                                .build(),
                        "nameserver 1.2.3.4\nnameserver fd00::53\n"),
                new Case(
                        "searches only",
                        DNSConfig.newBuilder().addSearches("a").addSearches("b").build(),
                        "search a b\n"),
                new Case(
                        "options only",
                        DNSConfig.newBuilder()
                                .addOptions("ndots:2")
                                .addOptions("edns0")
                                .build(),
                        "options ndots:2 edns0\n"),
                new Case("empty config copies the host's", DNSConfig.getDefaultInstance(), HOST_RESOLV),
                new Case("no config copies the host's", null, HOST_RESOLV));
    }

    @ParameterizedTest
    @MethodSource("dnsCases")
    void resolvConf_containerdFormatOrHostCopy(Case c) throws IOException {
        Path host = Files.writeString(tmp.resolve("resolv.conf"), HOST_RESOLV);

        assertEquals(c.want(), PodFiles.resolvConf(c.dns(), host));
    }

    @Test
    void resolvConf_emptyConfigAndNoHostFile_isEmpty() {
        assertEquals("", PodFiles.resolvConf(DNSConfig.getDefaultInstance(), tmp.resolve("missing")));
    }

    @Test
    void hosts_ownNetwork_isTheDefaultContent() throws IOException {
        Path host = Files.writeString(tmp.resolve("hosts"), "10.0.0.1 node1\n");

        assertEquals("""
        127.0.0.1\tlocalhost
        ::1\tlocalhost ip6-localhost ip6-loopback
        fe00::0\tip6-localnet
        ff00::0\tip6-mcastprefix
        ff02::1\tip6-allnodes
        ff02::2\tip6-allrouters
        """, PodFiles.hosts(false, host));
    }

    @Test
    void hosts_hostNetwork_copiesTheHostFile() throws IOException {
        Path host = Files.writeString(tmp.resolve("hosts"), "127.0.0.1 localhost\n10.0.0.1 node1\n");

        assertEquals("127.0.0.1 localhost\n10.0.0.1 node1\n", PodFiles.hosts(true, host));
        assertEquals("", PodFiles.hosts(true, tmp.resolve("missing")));
    }

    @Test
    void hostname_podsName_endsWithNewline() {
        assertEquals("web-0\n", PodFiles.hostname("web-0", false, () -> "node1"));
        assertEquals("web-0\n", PodFiles.hostname("web-0", true, () -> "node1"));
    }

    @Test
    void hostname_empty_fallsBackToTheHostsName() {
        assertEquals("node1\n", PodFiles.hostname("", true, () -> "node1"));
        assertEquals("node1\n", PodFiles.hostname("", false, () -> "node1"));
    }

    @Test
    void hostname_empty_readsThisHostsName() throws IOException {
        String expected = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip() + "\n";

        assertEquals(expected, PodFiles.hostname("", true));
    }

    @Test
    void write_replacesAtomicallyWithMode0644() throws IOException {
        Path f = tmp.resolve("resolv.conf");
        Files.writeString(f, "old\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));

        PodFiles.write(f, "nameserver 1.1.1.1\n");

        assertEquals("nameserver 1.1.1.1\n", Files.readString(f));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        assertFalse(Files.exists(tmp.resolve("resolv.conf.tmp")), "temp file renamed away");
        try (var entries = Files.list(tmp)) {
            assertEquals(List.of(f), entries.toList());
        }
    }

    @Test
    void write_newFile() throws IOException {
        Path f = tmp.resolve("hostname");

        PodFiles.write(f, "web-0\n");

        assertEquals("web-0\n", Files.readString(f));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
    }

    @Test
    void write_symlinkAtTheTarget_isReplacedNotFollowed() throws IOException {
        Path outside =
                Files.writeString(Files.createDirectory(tmp.resolve("outside")).resolve("passwd"), "root\n");
        Path pod = Files.createDirectory(tmp.resolve("pod"));
        Path f = Files.createSymbolicLink(pod.resolve("hosts"), outside);

        PodFiles.write(f, "127.0.0.1\tlocalhost\n");

        assertEquals("root\n", Files.readString(outside));
        assertFalse(Files.isSymbolicLink(f));
        assertEquals("127.0.0.1\tlocalhost\n", Files.readString(f));
    }

    @Test
    void write_missingDirectory_namesTheFile() {
        Path f = tmp.resolve("no-such-dir/hosts");

        var e = assertThrows(UncheckedIOException.class, () -> PodFiles.write(f, "x"));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }

    static Stream<DNSConfig> hostileDns() {
        return Stream.of(
                DNSConfig.newBuilder().addServers("1.2.3.4\nnameserver 6.6.6.6").build(),
                DNSConfig.newBuilder().addServers("dns.example.com").build(),
                DNSConfig.newBuilder().addSearches("a\noptions ndots:15").build(),
                DNSConfig.newBuilder().addSearches("a b").build(),
                DNSConfig.newBuilder().addOptions("").build(),
                DNSConfig.newBuilder().addOptions("x".repeat(300)).build(),
                DNSConfig.newBuilder()
                        .addAllSearches(java.util.Collections.nCopies(33, "a"))
                        .build());
    }

    @ParameterizedTest
    @MethodSource("hostileDns")
    void resolvConf_injectionOrNonIpServer_isInvalidArgument(DNSConfig dns) {
        var e = org.junit.jupiter.api.Assertions.assertThrows(
                io.stevedore.server.error.CriException.InvalidArgument.class,
                () -> PodFiles.resolvConf(dns, Path.of("/none")));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().startsWith("dns_config."), e.getMessage());
        org.junit.jupiter.api.Assertions.assertFalse(e.getMessage().contains("\n"), "no raw newline echoed");
    }
}

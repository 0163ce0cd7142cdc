package io.stevedore.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.cri.v1.VersionRequest;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Start-up and shutdown of the real daemon process: exclusivity, socket handling, signals. */
class DaemonLifecycleIT {
    private Path dir;

    @BeforeEach
    void dir() throws IOException {
        dir = Files.createTempDirectory("sd-it-");
    }

    @AfterEach
    void clean() throws IOException {
        LiveDaemon.deleteTree(dir);
    }

    @Test
    void sigterm_removesSocketAndExitsZero() throws Exception {
        try (var d = DaemonProcess.start(dir.resolve("a"))) {
            assertTrue(Files.exists(d.socket()));
            assertEquals(0, d.terminate(), d::stderrText);
            assertFalse(Files.exists(d.socket()), "socket removed");
            assertTrue(d.logText().contains("stevedore stopped"), d::logText);
        }
    }

    @Test
    void socket_isGroupOnlyInAPrivateDir() throws Exception {
        try (var d = DaemonProcess.start(dir.resolve("a"))) {
            assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(d.socket())));
            assertEquals(
                    "rwx--x--x",
                    PosixFilePermissions.toString(
                            Files.getPosixFilePermissions(d.socket().getParent())));
            assertEquals(0, d.terminate());
        }
    }

    @Test
    void secondDaemon_sameState_refusesAndFirstKeepsServing() throws Exception {
        try (var first = DaemonProcess.start(dir.resolve("a"))) {
            // same state root, its own socket: it must not take over
            try (var second = DaemonProcess.launch(
                    dir.resolve("b"), "--root", first.root().toString())) {
                assertEquals(1, second.awaitExit(Duration.ofSeconds(30)));
                assertTrue(
                        second.stderrText()
                                .contains("another stevedore daemon (pid "
                                        + first.process().pid() + ") is using state root " + first.root()),
                        second::stderrText);
                assertFalse(Files.exists(second.socket()), "the refused daemon bound nothing");
            }
            try (var client = CriClient.connect(first.socket())) {
                assertNotNull(client.runtime().version(VersionRequest.getDefaultInstance()));
            }
            assertEquals(0, first.terminate());
        }
    }

    @Test
    void secondDaemon_sameSocket_refuses() throws Exception {
        try (var first = DaemonProcess.start(dir.resolve("a"))) {
            try (var second = DaemonProcess.launch(
                    dir.resolve("b"), "--socket", first.socket().toString())) {
                assertEquals(1, second.awaitExit(Duration.ofSeconds(30)));
                assertTrue(
                        second.stderrText()
                                .contains("socket " + first.socket() + " is already served by another process"),
                        second::stderrText);
            }
            try (var client = CriClient.connect(first.socket())) {
                assertNotNull(client.runtime().version(VersionRequest.getDefaultInstance()));
            }
            assertEquals(0, first.terminate());
        }
    }

    @Test
    void staleSocket_fromADeadDaemon_isReplaced() throws Exception {
        Path socket = DaemonProcess.socketIn(dir.resolve("a"));
        Files.createDirectories(socket.getParent());
        try (var ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.bind(UnixDomainSocketAddress.of(socket)); // closing leaves the file, as a crash would
        }
        assertTrue(Files.exists(socket));
        try (var d = DaemonProcess.start(dir.resolve("a"))) {
            assertEquals(0, d.terminate());
        }
    }

    @Test
    void badConfig_exitsNonZeroNamingFileAndKey() throws Exception {
        Path cfg = dir.resolve("bad.toml");
        Files.writeString(cfg, "[log]\nlevel = \"info\"\nfiel = \"/tmp/x\"\n");
        try (var d = DaemonProcess.launch(dir.resolve("a"), "--config", cfg.toString())) {
            assertEquals(1, d.awaitExit(Duration.ofSeconds(30)));
            assertTrue(d.stderrText().contains(cfg + ": log.fiel: unknown key"), d::stderrText);
            assertFalse(Files.exists(d.socket()));
        }
    }

    @Test
    void badFlag_exitsTwo() throws Exception {
        try (var d = DaemonProcess.launch(dir.resolve("a"), "--no-such-flag")) {
            assertEquals(2, d.awaitExit(Duration.ofSeconds(30)));
            assertTrue(d.stderrText().contains("unknown flag --no-such-flag"), d::stderrText);
        }
    }
}

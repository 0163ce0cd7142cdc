package io.stevedore.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link Pinns} without root: command lines, argument checks, mountinfo parsing, usage errors. */
class PinnsTest {
    private static final Path PIN_DIR = Path.of("/run/stevedore/ns");
    private static final Pinns PINNS = new Pinns(Path.of("/bin/stevedore-pinns"), PIN_DIR);

    static Path pinnsBinary() {
        return Path.of(System.getProperty("stevedore.native.dir", "target/native"), "stevedore-pinns");
    }

    @Test
    void pinCommand_allKindsHostnameSysctls_kindsInFixedOrderAndSysctlsSorted() {
        Map<String, String> sysctls = new LinkedHashMap<>();
        sysctls.put("net.ipv4.ip_unprivileged_port_start", "0");
        sysctls.put("kernel.shmmax", "1073741824");

        List<String> cmd = PINNS.pinCommand(
                "sb1", EnumSet.of(Pinns.Kind.UTS, Pinns.Kind.NET, Pinns.Kind.IPC), Optional.of("pod-x"), sysctls);

        assertEquals(
                List.of(
                        "/bin/stevedore-pinns",
                        "--dir",
                        "/run/stevedore/ns",
                        "--id",
                        "sb1",
                        "--net",
                        "--ipc",
                        "--uts",
                        "--hostname",
                        "pod-x",
                        "--sysctl",
                        "kernel.shmmax=1073741824",
                        "--sysctl",
                        "net.ipv4.ip_unprivileged_port_start=0"),
                cmd);
    }

    @Test
    void removeCommand_anyId_removesAllKinds() {
        assertEquals(
                List.of("/bin/stevedore-pinns", "--remove", "--dir", "/run/stevedore/ns", "--id", "sb1"),
                PINNS.removeCommand("sb1"));
    }

    @Test
    void pinPath_kind_isUnderKindDir() {
        assertEquals(Path.of("/run/stevedore/ns/ipc/sb1"), PINNS.pinPath("sb1", Pinns.Kind.IPC));
    }

    @Test
    void pinCommand_hostnameWithoutUts_isRejected() {
        assertThrows(
                IllegalArgumentException.class,
                () -> PINNS.pinCommand("sb1", Set.of(Pinns.Kind.NET), Optional.of("pod-x"), Map.of()));
    }

    @Test
    void pinCommand_noKinds_isRejected() {
        assertThrows(
                IllegalArgumentException.class, () -> PINNS.pinCommand("sb1", Set.of(), Optional.empty(), Map.of()));
    }

    @Test
    void pinCommand_sysctlNameWithEquals_isRejected() {
        assertThrows(
                IllegalArgumentException.class,
                () -> PINNS.pinCommand("sb1", Set.of(Pinns.Kind.NET), Optional.empty(), Map.of("net.a=b", "1")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "a/b", ".", ".."})
    void pinPath_invalidId_isRejected(String id) {
        assertThrows(IllegalArgumentException.class, () -> PINNS.pinPath(id, Pinns.Kind.NET));
    }

    @Test
    void constructor_relativePinDir_isRejected() {
        assertThrows(IllegalArgumentException.class, () -> new Pinns(Path.of("pinns"), Path.of("ns")));
    }

    @Test
    void nsfsMount_escapedMountPoint_isFound() {
        Stream<String> lines = Stream.of(
                "27 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
                "44 27 0:4 net:[4026532179] /run/my\\040ns/net/a rw shared:1 - nsfs nsfs rw");

        assertEquals(Optional.of("net:[4026532179]"), PinnsMountInfo.nsfsMount(lines, "/run/my ns/net/a"));
    }

    @Test
    void nsfsMount_overmountedByTmpfs_isAbsent() {
        Stream<String> lines = Stream.of(
                "44 27 0:4 net:[4026532179] /run/ns/net/a rw - nsfs nsfs rw",
                "45 44 0:50 / /run/ns/net/a rw - tmpfs tmpfs rw");

        assertEquals(Optional.empty(), PinnsMountInfo.nsfsMount(lines, "/run/ns/net/a"));
    }

    @Test
    void nsfsMount_otherMountPoint_isAbsent() {
        Stream<String> lines = Stream.of("44 27 0:4 net:[4026532179] /run/ns/net/a rw - nsfs nsfs rw");

        assertEquals(Optional.empty(), PinnsMountInfo.nsfsMount(lines, "/run/ns/net/b"));
    }

    @Test
    void isPinned_missingOrPlainFile_isFalse(@TempDir Path tmp) throws IOException {
        Path plain = Files.createFile(tmp.resolve("plain"));
        Pinns pinns = new Pinns(pinnsBinary(), tmp);

        assertFalse(pinns.isPinned(tmp.resolve("missing")));
        assertFalse(pinns.isPinned(plain));
    }

    /** The tool rejects these before it changes anything, so no root is needed. */
    @ParameterizedTest
    @ValueSource(strings = {"kernel.panic", "vm.swappiness", "net/../kernel/panic"})
    void pin_nonNamespacedSysctl_failsWithToolMessageAndCreatesNothing(String key, @TempDir Path tmp) throws Exception {
        Pinns pinns = new Pinns(pinnsBinary(), tmp.resolve("ns"));

        var e = assertThrows(
                PinnsException.class,
                () -> pinns.pin("sb1", Set.of(Pinns.Kind.NET), Optional.empty(), Map.of(key, "1")));

        assertTrue(e.toolMessage().orElseThrow().startsWith("stevedore-pinns: sysctl " + key + "=1: "), e.getMessage());
        assertTrue(e.getMessage().startsWith("pin namespaces of sandbox \"sb1\": "), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("ns")));
    }

    @Test
    void pin_ipcSysctlWithoutIpc_failsNamingTheMissingFlag(@TempDir Path tmp) {
        Pinns pinns = new Pinns(pinnsBinary(), tmp.resolve("ns"));

        var e = assertThrows(
                PinnsException.class,
                () -> pinns.pin("sb1", Set.of(Pinns.Kind.NET), Optional.empty(), Map.of("kernel.shmmax", "1")));

        assertEquals(
                "stevedore-pinns: sysctl kernel.shmmax=1: needs --ipc",
                e.toolMessage().orElseThrow());
    }
}

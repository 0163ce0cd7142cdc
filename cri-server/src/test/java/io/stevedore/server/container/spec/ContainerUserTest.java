package io.stevedore.server.container.spec;

import static io.stevedore.server.container.spec.SpecFixture.config;
import static io.stevedore.server.container.spec.SpecFixture.image;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.stevedore.cri.v1.Int64Value;
import io.stevedore.cri.v1.LinuxContainerSecurityContext;
import io.stevedore.cri.v1.SupplementalGroupsPolicy;
import io.stevedore.oci.spec.Process;
import io.stevedore.oci.spec.SpecJson;
import io.stevedore.server.error.CriException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ContainerUserTest {
    private SpecFixture f;

    @BeforeEach
    void setUp(@TempDir Path dir) {
        f = new SpecFixture(dir);
    }

    record Case(
            String desc,
            UnaryOperator<LinuxContainerSecurityContext.Builder> sc,
            String imageUser,
            Process.User expected) {
        @Override
        public String toString() {
            return desc;
        }
    }

    static Int64Value v(long value) {
        return Int64Value.newBuilder().setValue(value).build();
    }

    static Process.User user(long uid, long gid, Long... gids) {
        return new Process.User(uid, gid, null, List.of(gids));
    }

    static Stream<Case> cases() {
        UnaryOperator<LinuxContainerSecurityContext.Builder> none = sc -> sc;
        return Stream.of(
                new Case("nothing: root, plus the groups listing root", none, "", user(0, 0, 0L, 10L)),
                new Case(
                        "image uid: gid from /etc/passwd, groups listing the name",
                        none,
                        "1000",
                        user(1000, 1000, 10L, 29L, 1000L)),
                new Case("image name", none, "bob", user(1001, 100, 29L, 44L, 100L)),
                new Case("image uid:gid: no lookup for ids", none, "1000:44", user(1000, 44, 10L, 29L, 44L)),
                new Case("image name:group", none, "bob:video", user(1001, 44, 29L, 44L)),
                new Case("image uid unknown to /etc/passwd: gid 0, no groups", none, "4242", user(4242, 0, 0L)),
                new Case(
                        "run_as_user overrides the image",
                        sc -> sc.setRunAsUser(v(1001)),
                        "alice",
                        user(1001, 100, 29L, 44L, 100L)),
                new Case("run_as_user 0 is root, not unset", sc -> sc.setRunAsUser(v(0)), "alice", user(0, 0, 0L, 10L)),
                new Case(
                        "run_as_username wins over run_as_user",
                        sc -> sc.setRunAsUser(v(0)).setRunAsUsername("alice"),
                        "",
                        user(1000, 1000, 10L, 29L, 1000L)),
                new Case(
                        "run_as_group with run_as_user",
                        sc -> sc.setRunAsUser(v(1000)).setRunAsGroup(v(5)),
                        "",
                        user(1000, 5, 5L, 10L, 29L)),
                new Case(
                        "run_as_group with run_as_username",
                        sc -> sc.setRunAsUsername("bob").setRunAsGroup(v(7)),
                        "",
                        user(1001, 7, 7L, 29L, 44L)),
                new Case(
                        "supplemental groups are merged and sorted",
                        sc -> sc.setRunAsUser(v(1001))
                                .addSupplementalGroups(3000)
                                .addSupplementalGroups(29),
                        "",
                        user(1001, 100, 29L, 44L, 100L, 3000L)),
                new Case(
                        "Strict: no groups from /etc/group",
                        sc -> sc.setRunAsUser(v(1001))
                                .addSupplementalGroups(3000)
                                .setSupplementalGroupsPolicy(SupplementalGroupsPolicy.Strict),
                        "",
                        user(1001, 100, 100L, 3000L)));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void generate_securityContextAndImageUser_processUser(Case c) {
        var spec = f.generate(config(c.sc()), f.pod(), image(c.imageUser(), List.of(), List.of("/x"), List.of(), ""));

        assertEquals(c.expected(), spec.process().user());
    }

    @Test
    void generate_user_isWrittenWithAdditionalGids() {
        var spec = f.generate(config(sc -> sc.setRunAsUser(v(1001))));

        assertEquals(
                "{\"uid\":1001,\"gid\":100,\"additionalGids\":[29,44,100]}",
                SpecJson.toJson(spec.process().user()).replaceAll("\\s", ""));
    }

    @Test
    void generate_unknownUserName_isInvalidArgumentNamingIt() {
        var e = assertThrows(
                CriException.InvalidArgument.class, () -> f.generate(config(sc -> sc.setRunAsUsername("mallory"))));

        assertEquals("create container \"app\": user \"mallory\" is not in the image's /etc/passwd", e.getMessage());
    }

    @Test
    void generate_unknownGroupName_isInvalidArgumentNamingIt() {
        var e = assertThrows(
                CriException.InvalidArgument.class,
                () -> f.generate(config(), f.pod(), image("alice:staff", List.of(), List.of("/x"), List.of(), "")));

        assertEquals("create container \"app\": group \"staff\" is not in the image's /etc/group", e.getMessage());
    }

    @Test
    void generate_groupWithoutUser_isInvalidArgument() {
        assertThrows(CriException.InvalidArgument.class, () -> f.generate(config(sc -> sc.setRunAsGroup(v(5)))));
    }

    @Test
    void generate_uidOutOfRange_isInvalidArgument() {
        assertThrows(CriException.InvalidArgument.class, () -> f.generate(config(sc -> sc.setRunAsUser(v(-1)))));
        assertThrows(CriException.InvalidArgument.class, () -> f.generate(config(sc -> sc.setRunAsUser(v(1L << 31)))));
    }

    @Test
    void generate_noEtcFiles_numericUsersStillWork() throws IOException {
        Files.delete(f.rootfs.resolve("etc/passwd"));
        Files.delete(f.rootfs.resolve("etc/group"));

        var spec = f.generate(config(sc -> sc.setRunAsUser(v(1000)).addSupplementalGroups(5)));

        assertEquals(user(1000, 0, 0L, 5L), spec.process().user());
        assertThrows(CriException.InvalidArgument.class, () -> f.generate(config(sc -> sc.setRunAsUsername("alice"))));
    }

    @Test
    void generate_passwdSymlinkedOutOfTheRootfs_isReadInsideIt() throws IOException {
        // An image whose /etc/passwd points at an absolute path must not make us read the host's file.
        Path hostFile = f.dir.resolve("host-passwd");
        Files.writeString(hostFile, "mallory:x:0:0::/:/bin/sh\n");
        Path inRootfs = f.rootfs.resolve(f.dir.getRoot().relativize(hostFile));
        Files.createDirectories(inRootfs.getParent());
        Files.writeString(inRootfs, "mallory:x:666:666::/:/bin/sh\n");
        Files.delete(f.rootfs.resolve("etc/passwd"));
        Files.createSymbolicLink(f.rootfs.resolve("etc/passwd"), hostFile);

        var spec = f.generate(config(sc -> sc.setRunAsUsername("mallory")));

        assertEquals(666, spec.process().user().uid());
    }

    @Test
    void generate_passwdIsAFifo_isAnErrorNotAHang() throws Exception {
        Files.delete(f.rootfs.resolve("etc/passwd"));
        Path fifo = f.rootfs.resolve("etc/passwd");
        new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor();

        assertThrows(java.io.UncheckedIOException.class, () -> f.generate(config(sc -> sc.setRunAsUsername("alice"))));
    }
}

package io.stevedore.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UdsGrpcServerTest {
    @TempDir
    Path dir;

    private static GroupPrincipal byName(String name) throws IOException {
        return FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByGroupName(name);
    }

    @Test
    void group_empty_isRootsGroup() throws IOException {
        // principals are equal when their gids are
        assertEquals(byName("root"), UdsGrpcServer.group(""));
    }

    @Test
    void group_byNameOrNumber_resolves() throws IOException {
        assertEquals(byName("root"), UdsGrpcServer.group("0"));
        GroupPrincipal own =
                Files.readAttributes(dir, PosixFileAttributes.class).group();
        int gid = (Integer) Files.getAttribute(dir, "unix:gid");
        assertEquals(own, UdsGrpcServer.group(own.getName()));
        assertEquals(own, UdsGrpcServer.group(Integer.toString(gid)));
    }

    @Test
    void start_unknownGroup_failsBeforeBindingAnything() {
        Path socket = dir.resolve("run/cri.sock");

        var e = assertThrows(IOException.class, () -> UdsGrpcServer.start(socket, "no-such-group-sd13", List.of()));

        assertEquals("socket_group \"no-such-group-sd13\": no such group", e.getMessage());
        assertFalse(Files.exists(socket.getParent()), "nothing made");
    }

    @Test
    void start_bindsTheSocketGroupOwned0660() throws Exception {
        Path socket = dir.resolve("cri.sock");
        int own = (Integer) Files.getAttribute(dir, "unix:gid");

        var server = UdsGrpcServer.start(socket, Integer.toString(own), List.of());
        try {
            var attrs =
                    Files.readAttributes(socket, PosixFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS);
            assertEquals("rw-rw----", java.nio.file.attribute.PosixFilePermissions.toString(attrs.permissions()));
            assertEquals(
                    own, (Integer) Files.getAttribute(socket, "unix:gid", java.nio.file.LinkOption.NOFOLLOW_LINKS));
        } finally {
            server.shutdown(java.time.Duration.ofSeconds(1));
        }
        assertFalse(Files.exists(socket), "removed on shutdown");
    }
}

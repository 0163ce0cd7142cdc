package io.stevedore.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.grpc.Status;
import io.stevedore.oci.linux.Errno;
import io.stevedore.oci.linux.SyscallException;
import io.stevedore.server.error.CriException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The one place a code is chosen: here, for failures of the disk (ENOSPC, EDQUOT) and their look-alikes. */
class StatusMappingTest {
    record Case(String desc, Throwable thrown, Status.Code code, String description) {
        @Override
        public String toString() {
            return desc;
        }
    }

    static Stream<Case> cases() {
        var noSpace = new IOException("No space left on device");
        return Stream.of(
                new Case(
                        "a record write that says the reason itself",
                        new UncheckedIOException("write /r/c.meta/a.json: No space left on device", noSpace),
                        Status.Code.RESOURCE_EXHAUSTED,
                        "write /r/c.meta/a.json: No space left on device"),
                new Case(
                        "wrapped twice, the outer message naming only the file: the reason is added",
                        new IllegalStateException(
                                "create container \"c\": write /r/a.json",
                                new UncheckedIOException(
                                        "write /r/a.json", new IOException("No space left on device"))),
                        Status.Code.RESOURCE_EXHAUSTED,
                        "create container \"c\": write /r/a.json: No space left on device"),
                new Case(
                        "a directory the JDK could not make",
                        new FileSystemException("/r/snapshots/x", null, "No space left on device"),
                        Status.Code.RESOURCE_EXHAUSTED,
                        "/r/snapshots/x: No space left on device"),
                new Case(
                        "a quota used up",
                        new UncheckedIOException("write /r/a.json", new IOException("Disk quota exceeded")),
                        Status.Code.RESOURCE_EXHAUSTED,
                        "write /r/a.json: Disk quota exceeded"),
                new Case(
                        "one of our syscalls, by errno",
                        new RuntimeException(
                                "pull x: layer y", new SyscallException("lsetxattr", "/r/f", Errno.ENOSPC)),
                        Status.Code.RESOURCE_EXHAUSTED,
                        "pull x: layer y: No space left on device"),
                new Case(
                        "one of our syscalls over quota",
                        new SyscallException("mknod", "/r/f", Errno.EDQUOT),
                        Status.Code.RESOURCE_EXHAUSTED,
                        "mknod /r/f: EDQUOT (disk quota exceeded)"),
                new Case(
                        "another errno of a syscall is not the disk",
                        new SyscallException("mknod", "/r/f", Errno.EPERM),
                        Status.Code.INTERNAL,
                        "mknod /r/f: EPERM (operation not permitted)"),
                new Case(
                        "words in someone else's message (a registry's error body) are not our disk",
                        new IOException("registry answered 500: No space left on device"),
                        Status.Code.INTERNAL,
                        "registry answered 500: No space left on device"),
                new Case(
                        "the outermost CriException still decides",
                        new CriException.Unavailable("start container \"c\": shim unreachable", noSpace),
                        Status.Code.UNAVAILABLE,
                        "start container \"c\": shim unreachable"),
                new Case(
                        "an unrelated I/O failure stays internal",
                        new UncheckedIOException("write /r/a.json", new IOException("Input/output error")),
                        Status.Code.INTERNAL,
                        "write /r/a.json"),
                new Case("a cycle of causes ends", cycle(), Status.Code.INTERNAL, "a"));
    }

    private static Throwable cycle() {
        var a = new RuntimeException("a");
        var b = new RuntimeException("b", a);
        a.initCause(b);
        return a;
    }

    @ParameterizedTest
    @MethodSource("cases")
    void toStatus_diskFullAndLookAlikes_codeAndDescription(Case c) {
        Status s = StatusMapping.toStatus(c.thrown());

        assertEquals(c.code(), s.getCode());
        assertEquals(c.description(), s.getDescription());
        assertSame(c.thrown(), s.getCause(), "the cause stays server-side, for the log");
    }
}

package io.stevedore.server.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.Status;
import io.stevedore.oci.runtime.OciRuntimeException;
import io.stevedore.server.container.checkpoint.TarListing;
import io.stevedore.server.error.CriException;
import io.stevedore.server.grpc.StatusMapping;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CheckpointContainer over fakes: the archive's layout, the runtime calls, and how failures answer. */
class ContainerCheckpointTest {
    @TempDir
    Path dir;

    ContainerHarness h;
    Path out;

    @BeforeEach
    void start() throws IOException {
        h = new ContainerHarness(dir);
        out = Files.createDirectories(dir.resolve("out"));
    }

    @AfterEach
    void stop() throws IOException {
        h.close();
    }

    private String running(String name) {
        String id = h.create(name);
        h.service.start(id);
        return id;
    }

    private Path upper(String id) {
        return h.service.upperDir(id);
    }

    private static Status.Code code(Exception e) {
        return StatusMapping.toStatus(e).getCode();
    }

    private List<String> workLeft() throws IOException {
        Path work = h.env.layout().checkpoints();
        if (!Files.exists(work)) return List.of();
        try (Stream<Path> s = Files.list(work)) {
            return s.map(Path::toString).toList();
        }
    }

    @Test
    void checkpoint_running_writesTheKubeletArchiveLayout() throws Exception {
        String id = running("web");
        Files.createDirectories(upper(id).resolve("tmp"));
        Files.writeString(upper(id).resolve("tmp/n"), "17\n");
        Path location = out.resolve("checkpoint-web.tar");

        h.service.checkpoint(id, location.toString(), 0);

        var tar = TarListing.of(location);
        assertEquals(
                List.of("config.dump", "spec.dump", "bind.mounts", "rootfs-diff.tar", "checkpoint/"),
                tar.names().subList(0, 5));
        assertTrue(tar.names().contains("checkpoint/inventory.img"), tar.names().toString());
        assertEquals(
                "fake criu image of " + id, tar.get("checkpoint/inventory.img").text());
        var config = new ObjectMapper().readTree(tar.get("config.dump").data());
        assertEquals(id, config.get("id").asText());
        assertEquals(h.service.record(id).name(), config.get("name").asText());
        assertEquals("busybox", config.get("rootfsImageName").asText());
        assertEquals(ContainerHarness.HANDLER, config.get("runtime").asText());
        assertTrue(config.has("createdTime") && config.has("checkpointedTime"), config.toString());
        assertEquals(
                Files.readString(h.env.bundle(id).resolve("config.json")),
                tar.get("spec.dump").text());
        var binds = new ObjectMapper().readTree(tar.get("bind.mounts").data());
        assertTrue(binds.toString().contains("\"destination\":\"/etc/resolv.conf\""), binds.toString());
        var diff = TarListing.of(tar.get("rootfs-diff.tar").data());
        assertEquals("17\n", diff.get("tmp/n").text());
        assertEquals(
                0600,
                Files.getPosixFilePermissions(location).stream()
                        .mapToInt(p -> 1 << (8 - p.ordinal()))
                        .sum());
        assertEquals(List.of(), workLeft());
    }

    @Test
    void checkpoint_pausesAroundTheDump_andLeavesTheContainerRunning() throws Exception {
        String id = running("web");

        h.service.checkpoint(id, out.resolve("a.tar").toString(), 30);

        List<String> calls =
                h.runtime.calls.stream().filter(c -> !c.startsWith("start")).toList();
        assertEquals(List.of("pause " + id, "checkpoint " + id + " --leave-running", "resume " + id), calls);
        assertTrue(h.service.status(id).getState() == io.stevedore.cri.v1.ContainerState.CONTAINER_RUNNING);
    }

    @Test
    void checkpoint_dumpTimesOut_isDeadlineExceeded_resumes_andLeavesNothing() throws Exception {
        String id = running("web");
        h.runtime.onCheckpoint = (cid, opts) -> {
            throw new OciRuntimeException.TimedOut("runc", "checkpoint", cid, "no answer within PT1S, killed");
        };
        Path location = out.resolve("late.tar");

        var e = assertThrows(CriException.class, () -> h.service.checkpoint(id, location.toString(), 1));

        assertEquals(Status.Code.DEADLINE_EXCEEDED, code(e));
        assertTrue(e.getMessage().contains("no answer within PT1S"), e.getMessage());
        assertEquals("resume " + id, h.runtime.calls.getLast());
        assertFalse(Files.exists(location));
        try (Stream<Path> s = Files.list(out)) {
            assertEquals(List.of(), s.toList(), "no temporary archive left");
        }
        assertEquals(List.of(), workLeft());
    }

    @Test
    void checkpoint_criuFails_carriesItsMessage_resumes_andLeavesNothing() throws Exception {
        String id = running("web");
        h.runtime.onCheckpoint = (cid, opts) -> {
            throw new OciRuntimeException("runc", "checkpoint", cid, "criu failed: type NOTIFY errno 0", 1, null);
        };

        var e = assertThrows(RuntimeException.class, () -> h.service.checkpoint(id, out + "/x.tar", 0));

        assertEquals(Status.Code.INTERNAL, code(e));
        assertTrue(e.getMessage().contains("criu failed: type NOTIFY errno 0"), e.getMessage());
        assertEquals("resume " + id, h.runtime.calls.getLast());
        assertEquals(List.of(), workLeft());
    }

    @Test
    void checkpoint_noWorkingCriu_isFailedPreconditionWithItsComplaint_andTouchesNothing() {
        String id = running("web");
        h.criu = () -> {
            throw new CriException.FailedPrecondition(
                    "checkpointing needs a working CRIU: \"/usr/sbin/criu check\" failed on this kernel: vdso");
        };

        var e = assertThrows(CriException.class, () -> h.service.checkpoint(id, out + "/x.tar", 0));

        assertEquals(Status.Code.FAILED_PRECONDITION, code(e));
        assertTrue(e.getMessage().contains("criu check\" failed on this kernel: vdso"), e.getMessage());
        assertEquals(0, h.runtime.count("pause"));
        assertEquals(0, h.runtime.count("checkpoint"));
    }

    @Test
    void checkpoint_createdContainer_isFailedPrecondition() {
        String id = h.create("web");

        var e = assertThrows(CriException.class, () -> h.service.checkpoint(id, out + "/x.tar", 0));

        assertEquals(Status.Code.FAILED_PRECONDITION, code(e));
        assertTrue(e.getMessage().contains("container is created"), e.getMessage());
        assertEquals(0, h.runtime.count("checkpoint"));
    }

    @Test
    void checkpoint_unknownId_isNotFound() {
        var e = assertThrows(CriException.class, () -> h.service.checkpoint("nope", out + "/x.tar", 0));

        assertEquals(Status.Code.NOT_FOUND, code(e));
    }

    @Test
    void checkpoint_badLocationOrTimeout_isInvalidArgumentNamingTheField() throws Exception {
        String id = running("web");
        Files.createDirectories(out.resolve("adir"));
        for (String bad : List.of("", "relative.tar", out + "/missing/x.tar", out + "/../x.tar", out + "/adir")) {
            var e = assertThrows(CriException.class, () -> h.service.checkpoint(id, bad, 0), bad);
            assertEquals(Status.Code.INVALID_ARGUMENT, code(e), bad);
            assertTrue(e.getMessage().startsWith("location: "), e.getMessage());
        }
        var e = assertThrows(CriException.class, () -> h.service.checkpoint(id, out + "/x.tar", -1));
        assertEquals(Status.Code.INVALID_ARGUMENT, code(e));
        assertTrue(e.getMessage().startsWith("timeout: "), e.getMessage());
        assertEquals(0, h.runtime.count("checkpoint"));
    }

    @Test
    void recover_removesWorkACrashLeft() throws Exception {
        Files.createDirectories(h.env.layout().checkpoints().resolve("abc-1/checkpoint"));

        h.open();

        assertEquals(List.of(), workLeft());
    }
}

package io.stevedore.server.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stevedore.cri.v1.Container;
import io.stevedore.cri.v1.ContainerConfig;
import io.stevedore.cri.v1.ContainerMetadata;
import io.stevedore.cri.v1.ContainerState;
import io.stevedore.cri.v1.ContainerStatus;
import io.stevedore.cri.v1.ImageSpec;
import io.stevedore.cri.v1.LinuxContainerConfig;
import io.stevedore.cri.v1.LinuxContainerResources;
import io.stevedore.cri.v1.Mount;
import io.stevedore.cri.v1.Signal;
import io.stevedore.oci.spec.Process;
import io.stevedore.oci.spec.Spec;
import io.stevedore.oci.spec.Specs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContainerProtosTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ID = "c".repeat(64);
    private static final String POD = "p".repeat(64);
    private static final String IMAGE_ID = "sha256:" + "1".repeat(64);
    private static final String IMAGE_REF = "docker.io/library/busybox@sha256:" + "2".repeat(64);
    private static final ContainerMetadata META =
            ContainerMetadata.newBuilder().setName("web").setAttempt(2).build();
    private static final Mount MOUNT = Mount.newBuilder()
            .setContainerPath("/data")
            .setHostPath("/srv/data")
            .setReadonly(true)
            .build();
    private static final LinuxContainerResources RESOURCES = LinuxContainerResources.newBuilder()
            .setMemoryLimitInBytes(64 << 20)
            .setCpuShares(512)
            .build();

    private static ContainerConfig config() {
        return ContainerConfig.newBuilder()
                .setMetadata(META)
                .setImage(ImageSpec.newBuilder().setImage("busybox").putAnnotations("img-a", "1"))
                .putLabels("app", "web")
                .putLabels("io.kubernetes.pod.name", "pod-a")
                .putAnnotations("note", "hello")
                .addMounts(MOUNT)
                .setLogPath("web/2.log")
                .setLinux(LinuxContainerConfig.newBuilder().setResources(RESOURCES))
                .setStopSignal(Signal.SIGINT)
                .build();
    }

    private static ContainerRecord record(ContainerRecord.Status status) {
        return new ContainerRecord(
                ID,
                POD,
                "web_pod-a_ns_uid_2",
                config().toByteArray(),
                IMAGE_ID,
                IMAGE_REF,
                "docker.io/library/busybox:latest",
                List.of("sha256:layer"),
                "/var/log/pods/x/web/2.log",
                "/kubepods/pod-x/" + ID,
                1_000L,
                status);
    }

    private static ContainerRecord exited() {
        return record(ContainerRecord.Status.created()
                .started(4242, 77, 4241, 99, 2_000L)
                .exited(3_000L, 137, "OOMKilled", "out of memory"));
    }

    @Test
    void container_carriesIdsMetadataImageStateAndMaps() {
        Container c = ContainerProtos.container(record(ContainerRecord.Status.created()));

        assertEquals(ID, c.getId());
        assertEquals(POD, c.getPodSandboxId());
        assertEquals(META, c.getMetadata());
        assertEquals("docker.io/library/busybox:latest", c.getImage().getImage());
        assertEquals(Map.of("img-a", "1"), c.getImage().getAnnotationsMap(), "the rest of the image spec is kept");
        assertEquals(IMAGE_REF, c.getImageRef());
        assertEquals(IMAGE_ID, c.getImageId());
        assertEquals(ContainerState.CONTAINER_CREATED, c.getState());
        assertEquals(1_000L, c.getCreatedAt());
        assertEquals(Map.of("app", "web", "io.kubernetes.pod.name", "pod-a"), c.getLabelsMap());
        assertEquals(Map.of("note", "hello"), c.getAnnotationsMap());
    }

    @Test
    void container_followsTheRecordsState() {
        assertEquals(
                ContainerState.CONTAINER_RUNNING,
                ContainerProtos.container(
                                record(ContainerRecord.Status.created().started(1, 5, 2, 3, 4)))
                        .getState());
        assertEquals(
                ContainerState.CONTAINER_EXITED,
                ContainerProtos.container(exited()).getState());
    }

    @Test
    void status_exited_carriesEverything() {
        ContainerStatus s = ContainerProtos.status(exited(), Optional.empty());

        assertEquals(ID, s.getId());
        assertEquals(META, s.getMetadata());
        assertEquals(ContainerState.CONTAINER_EXITED, s.getState());
        assertEquals(1_000L, s.getCreatedAt());
        assertEquals(2_000L, s.getStartedAt());
        assertEquals(3_000L, s.getFinishedAt());
        assertEquals(137, s.getExitCode());
        assertEquals("OOMKilled", s.getReason());
        assertEquals("out of memory", s.getMessage());
        assertEquals("docker.io/library/busybox:latest", s.getImage().getImage());
        assertEquals(IMAGE_REF, s.getImageRef());
        assertEquals(IMAGE_ID, s.getImageId());
        assertEquals(Map.of("app", "web", "io.kubernetes.pod.name", "pod-a"), s.getLabelsMap());
        assertEquals(Map.of("note", "hello"), s.getAnnotationsMap());
        assertEquals(List.of(MOUNT), s.getMountsList());
        assertEquals("/var/log/pods/x/web/2.log", s.getLogPath());
        assertEquals(RESOURCES, s.getResources().getLinux());
        assertEquals(Signal.SIGINT, s.getStopSignal());
    }

    @Test
    void status_created_hasNoStartFinishOrExit() {
        ContainerStatus s = ContainerProtos.status(record(ContainerRecord.Status.created()), Optional.empty());

        assertEquals(ContainerState.CONTAINER_CREATED, s.getState());
        assertEquals(0, s.getStartedAt());
        assertEquals(0, s.getFinishedAt());
        assertEquals(0, s.getExitCode());
        assertEquals("", s.getReason());
    }

    @Test
    void status_withoutLinuxResources_hasNoResources() {
        var cfg = config().toBuilder().clearLinux().build();
        var r = new ContainerRecord(
                ID,
                POD,
                "n",
                cfg.toByteArray(),
                IMAGE_ID,
                IMAGE_REF,
                "busybox",
                List.of(),
                "",
                "",
                1,
                ContainerRecord.Status.created());

        assertFalse(ContainerProtos.status(r, Optional.empty()).hasResources());
    }

    @Test
    void status_userComesFromTheSpec() {
        Spec spec = Specs.defaults()
                .withProcess(
                        Process.of(List.of("/bin/sh")).withUser(new Process.User(1000, 2000, null, List.of(3L, 4L))));

        ContainerStatus s = ContainerProtos.status(exited(), Optional.of(spec));

        assertTrue(s.hasUser());
        assertEquals(1000, s.getUser().getLinux().getUid());
        assertEquals(2000, s.getUser().getLinux().getGid());
        assertEquals(List.of(3L, 4L), s.getUser().getLinux().getSupplementalGroupsList());
    }

    @Test
    void status_withoutASpec_hasNoUser() {
        assertFalse(ContainerProtos.status(exited(), Optional.empty()).hasUser());
    }

    @Test
    void status_specWithoutAProcess_hasNoUser() {
        Spec spec = Specs.defaults().withProcess(null);

        assertFalse(ContainerProtos.status(exited(), Optional.of(spec)).hasUser());
    }

    @Test
    void verboseInfo_withConfigJson_isJsonWithPidSandboxAndSpec(@TempDir Path tmp) throws IOException {
        Path configJson = Files.writeString(
                tmp.resolve("config.json"), "{\"ociVersion\":\"1.1.0\",\"process\":{\"args\":[\"/bin/sh\"]}}");
        var r = record(ContainerRecord.Status.created().started(4242, 77, 4241, 99, 2_000L));

        Map<String, String> info = ContainerProtos.verboseInfo(r, configJson);

        assertEquals(List.of("info"), List.copyOf(info.keySet()));
        JsonNode n = JSON.readTree(info.get("info"));
        assertEquals(4242, n.get("pid").asInt());
        assertEquals(POD, n.get("sandboxID").asText());
        assertEquals("/kubepods/pod-x/" + ID, n.get("cgroupsPath").asText());
        assertEquals("1.1.0", n.get("runtimeSpec").get("ociVersion").asText());
        assertEquals(
                "/bin/sh",
                n.get("runtimeSpec").get("process").get("args").get(0).asText());
    }

    @Test
    void verboseInfo_withoutConfigJson_isStillJsonWithPid(@TempDir Path tmp) throws IOException {
        var r = record(ContainerRecord.Status.created().started(4242, 77, 4241, 99, 2_000L));

        Map<String, String> info = ContainerProtos.verboseInfo(r, tmp.resolve("missing.json"));

        JsonNode n = JSON.readTree(info.get("info"));
        assertEquals(4242, n.get("pid").asInt());
        assertFalse(n.has("runtimeSpec"));
    }

    @Test
    void verboseInfo_corruptConfigJson_isStillJsonWithPid(@TempDir Path tmp) throws IOException {
        Path configJson = Files.writeString(tmp.resolve("config.json"), "{\"ociVersion\":");
        var r = record(ContainerRecord.Status.created().started(4242, 77, 4241, 99, 2_000L));

        JsonNode n = JSON.readTree(ContainerProtos.verboseInfo(r, configJson).get("info"));

        assertEquals(4242, n.get("pid").asInt());
    }
}

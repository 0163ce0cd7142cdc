package io.stevedore.server.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stevedore.cri.v1.LinuxPodSandboxConfig;
import io.stevedore.cri.v1.LinuxSandboxSecurityContext;
import io.stevedore.cri.v1.NamespaceMode;
import io.stevedore.cri.v1.NamespaceOption;
import io.stevedore.cri.v1.PodIP;
import io.stevedore.cri.v1.PodSandbox;
import io.stevedore.cri.v1.PodSandboxConfig;
import io.stevedore.cri.v1.PodSandboxMetadata;
import io.stevedore.cri.v1.PodSandboxState;
import io.stevedore.cri.v1.PodSandboxStatus;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SandboxProtosTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ID = "s".repeat(64);
    private static final PodSandboxMetadata META = PodSandboxMetadata.newBuilder()
            .setName("pod-a")
            .setNamespace("default")
            .setUid("uid-1")
            .setAttempt(1)
            .build();
    private static final NamespaceOption NS = NamespaceOption.newBuilder()
            .setNetwork(NamespaceMode.POD)
            .setPid(NamespaceMode.CONTAINER)
            .setIpc(NamespaceMode.POD)
            .build();

    private static PodSandboxConfig config() {
        return PodSandboxConfig.newBuilder()
                .setMetadata(META)
                .setHostname("pod-a-host")
                .putLabels("app", "web")
                .putAnnotations("note", "hello")
                .setLinux(LinuxPodSandboxConfig.newBuilder()
                        .setSecurityContext(
                                LinuxSandboxSecurityContext.newBuilder().setNamespaceOptions(NS)))
                .build();
    }

    private static final SandboxMetadata POD = new SandboxMetadata(
            ID,
            "pod-a_default_uid-1_1",
            config(),
            "runc",
            1_000L,
            "/run/stevedore/netns/x",
            "/run/stevedore/ipcns/x",
            "/run/stevedore/utsns/x",
            "/run/stevedore/shm/x",
            "10.88.0.5",
            List.of("fd00::5", "10.99.0.5"),
            "/kubepods/pod-x",
            true);

    private static final SandboxStatus READY =
            new SandboxStatus(SandboxStatus.State.READY, 4242, 99, null, false, false, false, false);
    private static final SandboxStatus STOPPED =
            new SandboxStatus(SandboxStatus.State.STOPPED, 0, 0, null, false, false, false, false);

    @Test
    void sandbox_carriesIdMetadataStateTimeMapsAndHandler() {
        PodSandbox p = SandboxProtos.sandbox(POD, READY);

        assertEquals(ID, p.getId());
        assertEquals(META, p.getMetadata());
        assertEquals(PodSandboxState.SANDBOX_READY, p.getState());
        assertEquals(1_000L, p.getCreatedAt());
        assertEquals(Map.of("app", "web"), p.getLabelsMap());
        assertEquals(Map.of("note", "hello"), p.getAnnotationsMap());
        assertEquals("runc", p.getRuntimeHandler());
    }

    @Test
    void sandbox_notReady_isNotReady() {
        assertEquals(
                PodSandboxState.SANDBOX_NOTREADY,
                SandboxProtos.sandbox(POD, STOPPED).getState());
        assertEquals(
                PodSandboxState.SANDBOX_NOTREADY,
                SandboxProtos.sandbox(POD, READY.lost()).getState());
    }

    @Test
    void sandbox_stopUnderWay_isAlreadyNotReady() {
        assertEquals(
                PodSandboxState.SANDBOX_NOTREADY,
                SandboxProtos.sandbox(POD, READY.beginStop()).getState());
        assertEquals(
                PodSandboxState.SANDBOX_NOTREADY,
                SandboxProtos.sandbox(POD, READY.beginRemove()).getState());
    }

    @Test
    void status_carriesEverything() {
        PodSandboxStatus s = SandboxProtos.status(POD, READY);

        assertEquals(ID, s.getId());
        assertEquals(META, s.getMetadata());
        assertEquals(PodSandboxState.SANDBOX_READY, s.getState());
        assertEquals(1_000L, s.getCreatedAt());
        assertEquals("10.88.0.5", s.getNetwork().getIp());
        assertEquals(
                List.of("fd00::5", "10.99.0.5"),
                s.getNetwork().getAdditionalIpsList().stream().map(PodIP::getIp).toList());
        assertEquals(NS, s.getLinux().getNamespaces().getOptions());
        assertEquals(Map.of("app", "web"), s.getLabelsMap());
        assertEquals(Map.of("note", "hello"), s.getAnnotationsMap());
        assertEquals("runc", s.getRuntimeHandler());
    }

    @Test
    void status_notReady_isNotReady() {
        assertEquals(
                PodSandboxState.SANDBOX_NOTREADY,
                SandboxProtos.status(POD, STOPPED).getState());
    }

    @Test
    void status_hostNetwork_hasNoIps() {
        var hostNetwork = new SandboxMetadata(ID, "n", config(), "runc", 1, "", "", "", "", "", null, "", false);

        PodSandboxStatus s = SandboxProtos.status(hostNetwork, SandboxStatus.ready());

        assertEquals("", s.getNetwork().getIp());
        assertEquals(0, s.getNetwork().getAdditionalIpsCount());
    }

    @Test
    void verboseInfo_isJsonWithPidNamespacesAndHostname() throws IOException {
        Map<String, String> info = SandboxProtos.verboseInfo(POD, READY);

        assertEquals(List.of("info"), List.copyOf(info.keySet()));
        JsonNode n = JSON.readTree(info.get("info"));
        assertEquals(4242, n.get("pid").asInt());
        assertEquals("running", n.get("processStatus").asText());
        assertEquals("/run/stevedore/netns/x", n.get("netNamespacePath").asText());
        assertEquals("/run/stevedore/ipcns/x", n.get("ipcNamespacePath").asText());
        assertEquals("/run/stevedore/utsns/x", n.get("utsNamespacePath").asText());
        assertEquals("/kubepods/pod-x", n.get("cgroupParent").asText());
        assertEquals("runc", n.get("runtimeHandler").asText());
        assertEquals("pod-a-host", n.get("hostname").asText());
        assertEquals("10.88.0.5", n.get("ip").asText());
    }

    @Test
    void verboseInfo_stopped_saysStoppedWithPidZero() throws IOException {
        JsonNode n = JSON.readTree(SandboxProtos.verboseInfo(POD, READY.lost()).get("info"));

        assertEquals("stopped", n.get("processStatus").asText());
        assertEquals(0, n.get("pid").asInt());
    }
}

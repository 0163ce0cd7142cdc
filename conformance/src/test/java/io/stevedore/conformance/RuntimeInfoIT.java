package io.stevedore.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.stevedore.cri.v1.CgroupDriver;
import io.stevedore.cri.v1.CheckpointContainerRequest;
import io.stevedore.cri.v1.ContainerStatusRequest;
import io.stevedore.cri.v1.ImageFsInfoRequest;
import io.stevedore.cri.v1.PodSandboxConfig;
import io.stevedore.cri.v1.RunPodSandboxRequest;
import io.stevedore.cri.v1.RuntimeCondition;
import io.stevedore.cri.v1.RuntimeConfigRequest;
import io.stevedore.cri.v1.StartContainerRequest;
import io.stevedore.cri.v1.StatusRequest;
import io.stevedore.cri.v1.VersionRequest;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** What kubelet asks first, over the daemon's real socket, with no CNI network configured. */
class RuntimeInfoIT {
    @RegisterExtension
    static final LiveDaemon daemon = LiveDaemon.withConfig(
            dir -> "[cni]\nconf_dir = \"" + dir + "/net.d\"\nbin_dirs = [\"" + dir + "/cni-bin\"]\n");

    @Test
    void version_isStevedoreSpeakingV1() {
        var v = daemon.client().runtime().version(VersionRequest.getDefaultInstance());
        assertEquals("stevedore", v.getRuntimeName());
        assertEquals("v1", v.getRuntimeApiVersion());
        assertFalse(v.getRuntimeVersion().isEmpty());
    }

    @Test
    void status_noCniConfig_runtimeReadyNetworkNot() {
        Map<String, RuntimeCondition> conditions =
                daemon
                        .client()
                        .runtime()
                        .status(StatusRequest.getDefaultInstance())
                        .getStatus()
                        .getConditionsList()
                        .stream()
                        .collect(Collectors.toMap(RuntimeCondition::getType, c -> c));
        assertEquals(2, conditions.size());
        assertTrue(conditions.get("RuntimeReady").getStatus());
        var net = conditions.get("NetworkReady");
        assertFalse(net.getStatus());
        assertEquals("NetworkPluginNotReady", net.getReason());
        assertTrue(net.getMessage().contains(daemon.dir() + "/net.d"), net.getMessage());
    }

    @Test
    void status_verbose_showsEffectiveConfig() {
        var info = daemon.client()
                .runtime()
                .status(StatusRequest.newBuilder().setVerbose(true).build())
                .getInfoMap();
        assertTrue(
                info.get("config").contains("\"socket\":\"" + daemon.process().socket() + "\""), info.get("config"));
    }

    @Test
    void runtimeConfig_default_isCgroupfs() {
        assertEquals(
                CgroupDriver.CGROUPFS,
                daemon.client()
                        .runtime()
                        .runtimeConfig(RuntimeConfigRequest.getDefaultInstance())
                        .getLinux()
                        .getCgroupDriver());
    }

    @Test
    void imageFsInfo_freshDaemon_answers() {
        var fs = daemon.client().images().imageFsInfo(ImageFsInfoRequest.getDefaultInstance());
        assertEquals(
                daemon.process().root().resolve("snapshots").toString(),
                fs.getImageFilesystems(0).getFsId().getMountpoint());
    }

    @Test
    void unimplementedRpc_isUnimplementedNamingIt() {
        var e = assertThrows(
                StatusRuntimeException.class,
                () -> daemon.client()
                        .runtime()
                        .checkpointContainer(CheckpointContainerRequest.newBuilder()
                                .setContainerId("c")
                                .build()));
        assertEquals(Status.Code.UNIMPLEMENTED, e.getStatus().getCode());
        assertTrue(
                e.getStatus().getDescription().contains("CheckpointContainer"),
                e.getStatus().getDescription());
    }

    @Test
    void missingRequiredField_isInvalidArgument() {
        var e = assertThrows(
                StatusRuntimeException.class,
                () -> daemon.client().runtime().startContainer(StartContainerRequest.getDefaultInstance()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("container_id must not be empty", e.getStatus().getDescription());

        e = assertThrows(
                StatusRuntimeException.class,
                () -> daemon.client().runtime().containerStatus(ContainerStatusRequest.getDefaultInstance()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());

        e = assertThrows(
                StatusRuntimeException.class,
                () -> daemon.client()
                        .runtime()
                        .runPodSandbox(RunPodSandboxRequest.newBuilder()
                                .setConfig(PodSandboxConfig.getDefaultInstance())
                                .build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("config.metadata must be set", e.getStatus().getDescription());
    }

    @Test
    void everyCall_isLoggedAsJsonLines() {
        daemon.client().runtime().version(VersionRequest.getDefaultInstance());
        String log = daemon.process().logText();
        assertTrue(log.contains("\"rpc\":\"Version\""), log);
        log.lines().forEach(l -> assertTrue(l.startsWith("{") && l.endsWith("}"), "not a JSON line: " + l));
    }
}

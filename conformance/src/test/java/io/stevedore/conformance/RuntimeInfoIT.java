package io.stevedore.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.stevedore.cri.v1.CgroupDriver;
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

    /**
     * Issue 14, Done-when 1: every one of the 41 RPCs is served. Each is called with an empty
     * request (most answer INVALID_ARGUMENT or NOT_FOUND to that); none may answer UNIMPLEMENTED.
     * The streams are read for a moment: GetContainerEvents never ends by itself.
     */
    @Test
    void everyRpc_isServed_noneAnswersUnimplemented() {
        var channel = daemon.client().channel();
        var methods = new java.util.ArrayList<io.grpc.MethodDescriptor<?, ?>>();
        methods.addAll(
                io.stevedore.cri.v1.RuntimeServiceGrpc.getServiceDescriptor().getMethods());
        methods.addAll(
                io.stevedore.cri.v1.ImageServiceGrpc.getServiceDescriptor().getMethods());
        assertEquals(41, methods.size(), "the CRI has 41 RPCs");
        var answers = new java.util.TreeMap<String, Status.Code>();
        for (var m : methods) answers.put(m.getBareMethodName(), call(channel, m));
        System.out.println("RuntimeInfoIT: empty requests answered " + answers);
        assertEquals(
                java.util.Map.of(),
                answers.entrySet().stream()
                        .filter(a -> a.getValue() == Status.Code.UNIMPLEMENTED)
                        .collect(java.util.stream.Collectors.toMap(
                                java.util.Map.Entry::getKey, java.util.Map.Entry::getValue)));
    }

    @SuppressWarnings("unchecked")
    private static <Q, R> Status.Code call(io.grpc.Channel channel, io.grpc.MethodDescriptor<Q, R> m) {
        Q empty = ((io.grpc.MethodDescriptor.PrototypeMarshaller<Q>) m.getRequestMarshaller()).getMessagePrototype();
        var options = io.grpc.CallOptions.DEFAULT.withDeadlineAfter(2, java.util.concurrent.TimeUnit.SECONDS);
        try {
            if (m.getType() == io.grpc.MethodDescriptor.MethodType.UNARY) {
                io.grpc.stub.ClientCalls.blockingUnaryCall(channel, m, options, empty);
            } else {
                var it = io.grpc.stub.ClientCalls.blockingServerStreamingCall(channel, m, options, empty);
                while (it.hasNext()) it.next();
            }
            return Status.Code.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
        }
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

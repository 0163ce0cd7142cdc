package io.stevedore.cri.v1;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor.Type;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Pins the shape of our runtime.v1 definition to cri-api v0.36.3, so that an accidental edit of
 * api.proto (renumbered field, renamed RPC, dropped stream) fails the build.
 */
class CriProtoConsistencyTest {

    private static final FileDescriptor FILE = CriProto.getDescriptor();

    private static final List<String> RUNTIME_RPCS = List.of(
            "Version",
            "RunPodSandbox",
            "StopPodSandbox",
            "RemovePodSandbox",
            "PodSandboxStatus",
            "ListPodSandbox",
            "StreamPodSandboxes",
            "CreateContainer",
            "StartContainer",
            "StopContainer",
            "RemoveContainer",
            "ListContainers",
            "StreamContainers",
            "ContainerStatus",
            "UpdateContainerResources",
            "ReopenContainerLog",
            "ExecSync",
            "Exec",
            "Attach",
            "PortForward",
            "ContainerStats",
            "ListContainerStats",
            "StreamContainerStats",
            "PodSandboxStats",
            "ListPodSandboxStats",
            "StreamPodSandboxStats",
            "UpdateRuntimeConfig",
            "Status",
            "CheckpointContainer",
            "GetContainerEvents",
            "ListMetricDescriptors",
            "ListPodSandboxMetrics",
            "StreamPodSandboxMetrics",
            "RuntimeConfig",
            "UpdatePodSandboxResources");

    private static final List<String> IMAGE_RPCS =
            List.of("ListImages", "StreamImages", "ImageStatus", "PullImage", "RemoveImage", "ImageFsInfo");

    private static final Set<String> SERVER_STREAMING = Set.of(
            "RuntimeService/StreamPodSandboxes",
            "RuntimeService/StreamContainers",
            "RuntimeService/StreamContainerStats",
            "RuntimeService/StreamPodSandboxStats",
            "RuntimeService/GetContainerEvents",
            "RuntimeService/StreamPodSandboxMetrics",
            "ImageService/StreamImages");

    @Test
    void descriptor_package_isRuntimeV1() {
        assertEquals("runtime.v1", FILE.getPackage());
        assertEquals("io.stevedore.cri.v1", FILE.getOptions().getJavaPackage());
    }

    @Test
    void descriptor_services_areExactlyRuntimeAndImage() {
        List<String> names =
                FILE.getServices().stream().map(ServiceDescriptor::getName).toList();
        assertEquals(List.of("RuntimeService", "ImageService"), names);
    }

    @Test
    void runtimeService_rpcNames_matchUpstreamInOrder() {
        assertEquals(RUNTIME_RPCS, rpcNames("RuntimeService"));
    }

    @Test
    void imageService_rpcNames_matchUpstreamInOrder() {
        assertEquals(IMAGE_RPCS, rpcNames("ImageService"));
    }

    @Test
    void allServices_rpcCount_is41() {
        assertEquals(35, RUNTIME_RPCS.size());
        assertEquals(
                41, rpcNames("RuntimeService").size() + rpcNames("ImageService").size());
    }

    @Test
    void allRpcs_streaming_onlyStreamRpcsAreServerStreamingAndNoneClientStreaming() {
        Set<String> actual = FILE.getServices().stream()
                .flatMap(s -> s.getMethods().stream())
                .filter(MethodDescriptor::isServerStreaming)
                .map(m -> m.getService().getName() + "/" + m.getName())
                .collect(Collectors.toSet());
        assertEquals(SERVER_STREAMING, actual);
        assertTrue(FILE.getServices().stream()
                .flatMap(s -> s.getMethods().stream())
                .noneMatch(MethodDescriptor::isClientStreaming));
    }

    record Rpc(String service, String method, String input, String output) {}

    static Stream<Rpc> rpcTypes() {
        return Stream.of(
                new Rpc("RuntimeService", "Version", "VersionRequest", "VersionResponse"),
                new Rpc("RuntimeService", "RunPodSandbox", "RunPodSandboxRequest", "RunPodSandboxResponse"),
                new Rpc("RuntimeService", "GetContainerEvents", "GetEventsRequest", "ContainerEventResponse"),
                new Rpc("RuntimeService", "StreamContainers", "StreamContainersRequest", "StreamContainersResponse"),
                new Rpc(
                        "RuntimeService",
                        "UpdatePodSandboxResources",
                        "UpdatePodSandboxResourcesRequest",
                        "UpdatePodSandboxResourcesResponse"),
                new Rpc("RuntimeService", "RuntimeConfig", "RuntimeConfigRequest", "RuntimeConfigResponse"),
                new Rpc("ImageService", "PullImage", "PullImageRequest", "PullImageResponse"),
                new Rpc("ImageService", "ImageFsInfo", "ImageFsInfoRequest", "ImageFsInfoResponse"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rpcTypes")
    void rpc_inputAndOutputTypes_matchUpstream(Rpc c) {
        MethodDescriptor m = FILE.findServiceByName(c.service()).findMethodByName(c.method());
        assertNotNull(m, c.service() + "/" + c.method());
        assertAll(
                () -> assertEquals("runtime.v1." + c.input(), m.getInputType().getFullName()),
                () -> assertEquals("runtime.v1." + c.output(), m.getOutputType().getFullName()));
    }

    /** Cardinality of a field: singular, repeated, or a map. */
    enum Card {
        ONE,
        REPEATED,
        MAP
    }

    /** typeName is the message/enum simple name for MESSAGE/ENUM fields, otherwise null. */
    record Case(String message, String field, int number, Type type, String typeName, Card card) {
        @Override
        public String toString() {
            return message + "." + field + "=" + number;
        }
    }

    static Stream<Case> fields() {
        return Stream.of(
                new Case("PodSandboxConfig", "metadata", 1, Type.MESSAGE, "PodSandboxMetadata", Card.ONE),
                new Case("PodSandboxConfig", "port_mappings", 5, Type.MESSAGE, "PortMapping", Card.REPEATED),
                new Case("PodSandboxConfig", "annotations", 7, Type.MESSAGE, null, Card.MAP),
                new Case("PodSandboxConfig", "linux", 8, Type.MESSAGE, "LinuxPodSandboxConfig", Card.ONE),
                new Case("PodSandboxMetadata", "attempt", 4, Type.UINT32, null, Card.ONE),
                new Case("ContainerConfig", "image", 2, Type.MESSAGE, "ImageSpec", Card.ONE),
                new Case("ContainerConfig", "envs", 6, Type.MESSAGE, "KeyValue", Card.REPEATED),
                new Case("ContainerConfig", "log_path", 11, Type.STRING, null, Card.ONE),
                new Case("ContainerConfig", "tty", 14, Type.BOOL, null, Card.ONE),
                new Case("ContainerConfig", "CDI_devices", 17, Type.MESSAGE, "CDIDevice", Card.REPEATED),
                new Case("ContainerConfig", "stop_signal", 18, Type.ENUM, "Signal", Card.ONE),
                new Case("KeyValue", "value", 2, Type.BYTES, null, Card.ONE),
                new Case("Mount", "propagation", 5, Type.ENUM, "MountPropagation", Card.ONE),
                new Case("Mount", "uidMappings", 6, Type.MESSAGE, "IDMapping", Card.REPEATED),
                new Case("Mount", "image_sub_path", 10, Type.STRING, null, Card.ONE),
                new Case("LinuxContainerResources", "cpu_quota", 2, Type.INT64, null, Card.ONE),
                new Case("LinuxContainerResources", "hugepage_limits", 8, Type.MESSAGE, "HugepageLimit", Card.REPEATED),
                new Case("LinuxContainerResources", "unified", 9, Type.MESSAGE, null, Card.MAP),
                new Case("LinuxContainerResources", "memory_swap_limit_in_bytes", 10, Type.INT64, null, Card.ONE),
                new Case("LinuxSandboxSecurityContext", "run_as_group", 8, Type.MESSAGE, "Int64Value", Card.ONE),
                new Case(
                        "LinuxContainerSecurityContext",
                        "supplemental_groups_policy",
                        17,
                        Type.ENUM,
                        "SupplementalGroupsPolicy",
                        Card.ONE),
                new Case("PullImageRequest", "auth", 2, Type.MESSAGE, "AuthConfig", Card.ONE),
                new Case("PullImageRequest", "sandbox_config", 3, Type.MESSAGE, "PodSandboxConfig", Card.ONE),
                new Case("ContainerStatus", "exit_code", 7, Type.INT32, null, Card.ONE),
                new Case("ContainerStatus", "stop_signal", 19, Type.ENUM, "Signal", Card.ONE),
                new Case("ImageSpec", "annotations", 2, Type.MESSAGE, null, Card.MAP),
                new Case("ImageSpec", "user_specified_image", 18, Type.STRING, null, Card.ONE),
                new Case("ImageSpec", "image_ref", 20, Type.STRING, null, Card.ONE),
                new Case("RuntimeCondition", "type", 1, Type.STRING, null, Card.ONE),
                new Case("RuntimeCondition", "status", 2, Type.BOOL, null, Card.ONE),
                new Case("StatusResponse", "runtime_handlers", 3, Type.MESSAGE, "RuntimeHandler", Card.REPEATED),
                new Case(
                        "ContainerEventResponse", "container_event_type", 2, Type.ENUM, "ContainerEventType", Card.ONE),
                new Case(
                        "ContainerEventResponse",
                        "containers_statuses",
                        5,
                        Type.MESSAGE,
                        "ContainerStatus",
                        Card.REPEATED),
                new Case("PsiData", "Avg10", 2, Type.DOUBLE, null, Card.ONE),
                new Case("Metric", "value", 5, Type.MESSAGE, "UInt64Value", Card.ONE));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fields")
    void field_numberTypeAndCardinality_matchUpstream(Case c) {
        Descriptor msg = FILE.findMessageTypeByName(c.message());
        assertNotNull(msg, "message " + c.message());
        FieldDescriptor f = msg.findFieldByName(c.field());
        assertNotNull(f, "field " + c);
        assertAll(
                () -> assertEquals(c.number(), f.getNumber(), "number"),
                () -> assertEquals(c.type(), f.getType(), "type"),
                () -> assertEquals(c.card() != Card.ONE, f.isRepeated(), "repeated"),
                () -> assertEquals(c.card() == Card.MAP, f.isMapField(), "map"),
                () -> {
                    if (c.typeName() != null) {
                        String actual = f.getType() == Type.ENUM
                                ? f.getEnumType().getName()
                                : f.getMessageType().getName();
                        assertEquals(c.typeName(), actual, "type name");
                    }
                });
    }

    @Test
    void authConfig_secretFields_areDebugRedacted() {
        Descriptor auth = FILE.findMessageTypeByName("AuthConfig");
        for (String name : List.of("password", "auth", "identity_token", "registry_token")) {
            assertTrue(auth.findFieldByName(name).getOptions().getDebugRedact(), name);
        }
    }

    record EnumCase(String enumName, String value, int number) {
        @Override
        public String toString() {
            return enumName + "." + value + "=" + number;
        }
    }

    static Stream<EnumCase> enumValues() {
        return Stream.of(
                new EnumCase("ContainerState", "CONTAINER_CREATED", 0),
                new EnumCase("ContainerState", "CONTAINER_RUNNING", 1),
                new EnumCase("ContainerState", "CONTAINER_EXITED", 2),
                new EnumCase("ContainerState", "CONTAINER_UNKNOWN", 3),
                new EnumCase("NamespaceMode", "POD", 0),
                new EnumCase("NamespaceMode", "CONTAINER", 1),
                new EnumCase("NamespaceMode", "NODE", 2),
                new EnumCase("NamespaceMode", "TARGET", 3),
                new EnumCase("MountPropagation", "PROPAGATION_PRIVATE", 0),
                new EnumCase("MountPropagation", "PROPAGATION_HOST_TO_CONTAINER", 1),
                new EnumCase("MountPropagation", "PROPAGATION_BIDIRECTIONAL", 2),
                new EnumCase("ContainerEventType", "CONTAINER_CREATED_EVENT", 0),
                new EnumCase("ContainerEventType", "CONTAINER_STARTED_EVENT", 1),
                new EnumCase("ContainerEventType", "CONTAINER_STOPPED_EVENT", 2),
                new EnumCase("ContainerEventType", "CONTAINER_DELETED_EVENT", 3),
                new EnumCase("PodSandboxState", "SANDBOX_NOTREADY", 1),
                new EnumCase("Signal", "SIGKILL", 13),
                new EnumCase("Signal", "SIGRTMAX", 65),
                new EnumCase("CgroupDriver", "CGROUPFS", 1));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("enumValues")
    void enumValue_number_matchesUpstream(EnumCase c) {
        EnumDescriptor e = FILE.findEnumTypeByName(c.enumName());
        assertNotNull(e, "enum " + c.enumName());
        assertNotNull(e.findValueByName(c.value()), "value " + c);
        assertEquals(c.number(), e.findValueByName(c.value()).getNumber());
    }

    @Test
    void securityProfile_nestedProfileType_hasThreeValues() {
        EnumDescriptor pt = FILE.findMessageTypeByName("SecurityProfile").findEnumTypeByName("ProfileType");
        assertEquals(
                List.of("RuntimeDefault", "Unconfined", "Localhost"),
                pt.getValues().stream().map(v -> v.getName()).toList());
    }

    private static List<String> rpcNames(String service) {
        return FILE.findServiceByName(service).getMethods().stream()
                .map(MethodDescriptor::getName)
                .toList();
    }
}

package io.stevedore.server.info;

import io.stevedore.cri.v1.CgroupDriver;
import io.stevedore.cri.v1.LinuxRuntimeConfiguration;
import io.stevedore.cri.v1.RuntimeCondition;
import io.stevedore.cri.v1.RuntimeConfigResponse;
import io.stevedore.cri.v1.RuntimeFeatures;
import io.stevedore.cri.v1.RuntimeHandler;
import io.stevedore.cri.v1.RuntimeHandlerFeatures;
import io.stevedore.cri.v1.RuntimeStatus;
import io.stevedore.cri.v1.StatusResponse;
import io.stevedore.cri.v1.VersionResponse;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Answers the runtime-level questions kubelet asks before anything else: who we are ({@code
 * Version}), whether we can run pods ({@code Status}) and how cgroups are named ({@code
 * RuntimeConfig}).
 */
public final class RuntimeInfoService {
    private volatile String podCidr = "";
    /** The condition reasons kubelet shows; the names containerd and CRI-O use. */
    static final String NETWORK_NOT_READY = "NetworkPluginNotReady";

    private final String version;
    private final Map<String, HandlerFeatures> handlers;
    private final boolean systemdCgroups;
    private final NetworkReadiness network;
    private final Supplier<Map<String, String>> verboseInfo;

    /**
     * Handlers that claim no optional feature (tests, and runtimes that cannot be asked).
     *
     * @param handlers the configured runtime handler names; the empty name is reported too
     */
    public RuntimeInfoService(
            String version,
            List<String> handlers,
            boolean systemdCgroups,
            NetworkReadiness network,
            Supplier<Map<String, String>> verboseInfo) {
        this(version, noFeatures(handlers), systemdCgroups, network, verboseInfo);
    }

    /**
     * @param handlers what each runtime handler supports ({@link RuntimeFeatureProbe}), by name; the
     *     empty name is what a pod without {@code runtime_handler} gets, the default handler's
     * @param verboseInfo what {@code Status(verbose=true)} adds, each value a JSON document
     */
    public RuntimeInfoService(
            String version,
            Map<String, HandlerFeatures> handlers,
            boolean systemdCgroups,
            NetworkReadiness network,
            Supplier<Map<String, String>> verboseInfo) {
        this.version = version;
        this.handlers = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(handlers));
        this.systemdCgroups = systemdCgroups;
        this.network = network;
        this.verboseInfo = verboseInfo;
    }

    public VersionResponse version() {
        return VersionResponse.newBuilder()
                .setVersion("0.1.0") // the kubelet-facing API version field; containerd and CRI-O send 0.1.0
                .setRuntimeName("stevedore")
                .setRuntimeVersion(version)
                .setRuntimeApiVersion("v1")
                .build();
    }

    public StatusResponse status(boolean verbose) {
        var runtimeReady = RuntimeCondition.newBuilder().setType("RuntimeReady").setStatus(true);
        var networkReady = RuntimeCondition.newBuilder().setType("NetworkReady");
        network.notReadyBecause()
                .ifPresentOrElse(
                        why -> networkReady
                                .setStatus(false)
                                .setReason(NETWORK_NOT_READY)
                                .setMessage(why),
                        () -> networkReady.setStatus(true));
        var res = StatusResponse.newBuilder()
                .setStatus(
                        RuntimeStatus.newBuilder().addConditions(runtimeReady).addConditions(networkReady))
                // supplemental_groups_policy: Merge and Strict are both applied (ContainerUser)
                .setFeatures(RuntimeFeatures.newBuilder().setSupplementalGroupsPolicy(true));
        handlers.forEach((name, f) -> res.addRuntimeHandlers(handler(name, f)));
        if (verbose) {
            res.putAllInfo(verboseInfo.get());
        }
        return res.build();
    }

    /**
     * UpdateRuntimeConfig: kubelet tells the pod CIDR. The CNI config in use already has its own
     * ranges, so it is recorded and shown, not applied (as containerd without a CNI template).
     */
    public void updateRuntimeConfig(String podCidr) {
        if (!podCidr.isEmpty()) {
            this.podCidr = podCidr;
        }
    }

    /** The pod CIDR kubelet last sent; empty until then. */
    public String podCidr() {
        return podCidr;
    }

    public RuntimeConfigResponse runtimeConfig() {
        var driver = systemdCgroups ? CgroupDriver.SYSTEMD : CgroupDriver.CGROUPFS;
        return RuntimeConfigResponse.newBuilder()
                .setLinux(LinuxRuntimeConfiguration.newBuilder().setCgroupDriver(driver))
                .build();
    }

    private static RuntimeHandler handler(String name, HandlerFeatures f) {
        return RuntimeHandler.newBuilder()
                .setName(name)
                .setFeatures(RuntimeHandlerFeatures.newBuilder()
                        .setRecursiveReadOnlyMounts(f.recursiveReadOnlyMounts())
                        .setUserNamespaces(f.userNamespaces()))
                .build();
    }

    private static Map<String, HandlerFeatures> noFeatures(List<String> names) {
        Map<String, HandlerFeatures> m = new java.util.LinkedHashMap<>();
        m.put("", HandlerFeatures.NONE);
        names.forEach(n -> m.put(n, HandlerFeatures.NONE));
        return m;
    }
}

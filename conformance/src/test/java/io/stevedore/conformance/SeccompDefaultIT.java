package io.stevedore.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stevedore.conformance.registry.BusyboxImage;
import io.stevedore.conformance.registry.TestImages;
import io.stevedore.conformance.registry.TestRegistry;
import io.stevedore.cri.v1.*;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The runtime/default seccomp profile in real containers (runc, host network): a container that
 * tries what Docker's default refuses is refused, the same container Unconfined is not. Also what
 * {@code Status} claims for this host's runc, asked for real.
 */
@RequiresRoot
class SeccompDefaultIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final LiveDaemon daemon = LiveDaemon.withConfig(dir -> "[cni]\nconf_dir = \"" + dir + "/net.d\"\n");

    static TestRegistry registry;
    static String image;
    static final List<String> pods = new ArrayList<>();

    @BeforeAll
    static void pull() throws Exception {
        registry = TestRegistry.start();
        image = BusyboxImage.push(new TestImages(registry), "test/busybox-seccomp", "1")
                .reference();
        daemon.client()
                .images()
                .pullImage(PullImageRequest.newBuilder()
                        .setImage(ImageSpec.newBuilder().setImage(image))
                        .build());
    }

    @AfterAll
    static void removePods() throws Exception {
        try {
            for (String id : pods) {
                rt().stopPodSandbox(StopPodSandboxRequest.newBuilder()
                        .setPodSandboxId(id)
                        .build());
                rt().removePodSandbox(RemovePodSandboxRequest.newBuilder()
                        .setPodSandboxId(id)
                        .build());
            }
            assertEquals(
                    0,
                    rt().listContainers(ListContainersRequest.getDefaultInstance())
                            .getContainersCount());
        } finally {
            if (registry != null) registry.close();
        }
    }

    @Test
    void runtimeDefault_unshareUserNamespace_isRefusedWithEperm() throws Exception {
        String id = running("default", SecurityProfile.ProfileType.RuntimeDefault);

        var r = exec(id, "busybox", "unshare", "-U", "true");
        assertNotEquals(0, r.getExitCode());
        assertTrue(
                r.getStderr().toStringUtf8().contains("Operation not permitted"),
                r.getStderr().toStringUtf8());

        var status = exec(id, "busybox", "grep", "^Seccomp:", "/proc/self/status");
        assertEquals("Seccomp:\t2", status.getStdout().toStringUtf8().strip(), "filter mode");
        assertEquals(0, exec(id, "sh", "-c", "echo ok >/tmp/x && cat /tmp/x").getExitCode(), "ordinary calls pass");
    }

    /** busybox has no keyctl applet: the filter runc was given must not allow it (nor io_uring). */
    @Test
    void runtimeDefault_specIsAnAllowListWithoutKeyctl() throws Exception {
        String id = running("spec", SecurityProfile.ProfileType.RuntimeDefault);

        JsonNode seccomp = runtimeSpec(id).path("linux").path("seccomp");
        assertEquals("SCMP_ACT_ERRNO", seccomp.path("defaultAction").asText(), seccomp.toString());
        assertEquals(1, seccomp.path("defaultErrnoRet").asInt());
        assertEquals("SCMP_ARCH_X86_64", seccomp.path("architectures").path(0).asText());
        List<String> allowed = new ArrayList<>();
        for (JsonNode rule : seccomp.path("syscalls")) {
            if (rule.path("action").asText().equals("SCMP_ACT_ALLOW")) {
                rule.path("names").forEach(n -> allowed.add(n.asText()));
            }
        }
        assertTrue(allowed.contains("read") && allowed.contains("clone"), allowed.toString());
        for (String refused : List.of("keyctl", "add_key", "request_key", "unshare", "mount", "io_uring_setup")) {
            assertFalse(allowed.contains(refused), refused + " allowed");
        }
    }

    @Test
    void unconfined_unshareUserNamespace_works() throws Exception {
        String id = running("unconfined", SecurityProfile.ProfileType.Unconfined);

        var r = exec(id, "busybox", "unshare", "-U", "true");
        assertEquals(0, r.getExitCode(), r.getStderr().toStringUtf8());
        assertEquals(
                "Seccomp:\t0",
                exec(id, "busybox", "grep", "^Seccomp:", "/proc/self/status")
                        .getStdout()
                        .toStringUtf8()
                        .strip());
        assertTrue(runtimeSpec(id).path("linux").path("seccomp").isMissingNode());
    }

    /** Debian 12's runc 1.1.5 lists "rro" and no idmap mounts; this kernel has mount_setattr. */
    @Test
    void status_claimsWhatThisRuncCanDo() {
        var st = rt().status(StatusRequest.getDefaultInstance());
        assertTrue(st.getFeatures().getSupplementalGroupsPolicy());
        List<String> names = new ArrayList<>();
        for (RuntimeHandler h : st.getRuntimeHandlersList()) {
            names.add(h.getName());
            assertTrue(h.getFeatures().getRecursiveReadOnlyMounts(), h.toString());
            assertFalse(h.getFeatures().getUserNamespaces(), h.toString());
        }
        assertEquals(List.of("", "runc"), names);
    }

    // ------------------------------------------------------------------ helpers

    static RuntimeServiceGrpc.RuntimeServiceBlockingStub rt() {
        return daemon.client().runtime().withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    /** A host-network pod with one running {@code sleep} container under {@code profile}. */
    static String running(String name, SecurityProfile.ProfileType profile) {
        var cfg = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder()
                        .setName(name)
                        .setNamespace("seccomp-it")
                        .setUid(UUID.randomUUID().toString()))
                .setLogDirectory(daemon.dir().resolve("logs").resolve(name).toString())
                .setLinux(LinuxPodSandboxConfig.newBuilder()
                        .setSecurityContext(LinuxSandboxSecurityContext.newBuilder()
                                .setNamespaceOptions(
                                        NamespaceOption.newBuilder().setNetwork(NamespaceMode.NODE))))
                .build();
        String pod = rt().runPodSandbox(
                        RunPodSandboxRequest.newBuilder().setConfig(cfg).build())
                .getPodSandboxId();
        pods.add(pod);
        String id = rt().createContainer(CreateContainerRequest.newBuilder()
                        .setPodSandboxId(pod)
                        .setSandboxConfig(cfg)
                        .setConfig(ContainerConfig.newBuilder()
                                .setMetadata(ContainerMetadata.newBuilder().setName(name))
                                .setImage(ImageSpec.newBuilder().setImage(image))
                                .addAllCommand(List.of("sleep", "3600"))
                                .setLogPath(name + ".log")
                                .setLinux(LinuxContainerConfig.newBuilder()
                                        .setSecurityContext(LinuxContainerSecurityContext.newBuilder()
                                                .setSeccomp(SecurityProfile.newBuilder()
                                                        .setProfileType(profile)))))
                        .build())
                .getContainerId();
        rt().startContainer(
                        StartContainerRequest.newBuilder().setContainerId(id).build());
        return id;
    }

    static ExecSyncResponse exec(String id, String... cmd) {
        return rt().execSync(ExecSyncRequest.newBuilder()
                .setContainerId(id)
                .addAllCmd(List.of(cmd))
                .setTimeout(20)
                .build());
    }

    static JsonNode runtimeSpec(String id) throws Exception {
        String info = rt().containerStatus(ContainerStatusRequest.newBuilder()
                        .setContainerId(id)
                        .setVerbose(true)
                        .build())
                .getInfoOrThrow("info");
        return JSON.readTree(info).path("runtimeSpec");
    }
}

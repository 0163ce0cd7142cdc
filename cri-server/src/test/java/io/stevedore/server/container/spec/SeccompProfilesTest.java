package io.stevedore.server.container.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.stevedore.cri.v1.LinuxContainerSecurityContext;
import io.stevedore.cri.v1.SecurityProfile;
import io.stevedore.server.error.CriException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SeccompProfilesTest {
    private static final List<String> DEFAULT_CAPS = List.of("CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE");

    private static LinuxContainerSecurityContext path(String p) {
        return LinuxContainerSecurityContext.newBuilder()
                .setSeccompProfilePath(p)
                .build();
    }

    private static List<String> denied(JsonNode filter) {
        var out = new ArrayList<String>();
        for (JsonNode r : filter.get("syscalls")) {
            if (r.get("action").asText().equals("SCMP_ACT_ERRNO"))
                r.get("names").forEach(n -> out.add(n.asText()));
        }
        return out;
    }

    @Test
    void emptyAndUnconfined_haveNoFilter() {
        assertEquals(Optional.empty(), SeccompProfiles.of(path(""), DEFAULT_CAPS, "a"));
        assertEquals(Optional.empty(), SeccompProfiles.of(path("unconfined"), DEFAULT_CAPS, "a"));
    }

    @Test
    void runtimeDefault_deniesKernelAndAdminCallsWithEpermOnTheX86Abis() {
        JsonNode f =
                SeccompProfiles.of(path("runtime/default"), DEFAULT_CAPS, "a").orElseThrow();

        assertEquals("SCMP_ACT_ALLOW", f.get("defaultAction").asText());
        assertEquals(
                "[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"]",
                f.get("architectures").toString());
        assertEquals(1, f.get("syscalls").get(0).get("errnoRet").asInt());
        List<String> denied = denied(f);
        for (String call : List.of(
                "kexec_load",
                "init_module",
                "mount",
                "unshare",
                "setns",
                "sethostname",
                "reboot",
                "bpf",
                "keyctl",
                "userfaultfd",
                "io_uring_setup",
                "clock_settime",
                "open_by_handle_at")) {
            assertTrue(denied.contains(call), call + " denied");
        }
        assertFalse(denied.contains("read"));
        assertFalse(denied.contains("ptrace"), "allowed on kernels >= 4.8, as Docker's profile does");
    }

    @Test
    void dockerDefault_isTheRuntimeDefault() {
        assertEquals(
                SeccompProfiles.of(path("runtime/default"), DEFAULT_CAPS, "a"),
                SeccompProfiles.of(path("docker/default"), DEFAULT_CAPS, "a"));
    }

    @Test
    void runtimeDefault_withSysAdmin_allowsItsGroupOnly() {
        var caps = new ArrayList<>(DEFAULT_CAPS);
        caps.add("CAP_SYS_ADMIN");

        List<String> denied =
                denied(SeccompProfiles.of(path("runtime/default"), caps, "a").orElseThrow());

        assertFalse(denied.contains("sethostname"));
        assertFalse(denied.contains("mount"));
        assertTrue(denied.contains("reboot"), "CAP_SYS_BOOT's group stays denied");
        assertTrue(denied.contains("kexec_load"), "never allowed");
    }

    @Test
    void privileged_hasNoFilterWhateverIsAsked() {
        var sc = LinuxContainerSecurityContext.newBuilder()
                .setPrivileged(true)
                .setSeccompProfilePath("runtime/default")
                .build();

        assertEquals(Optional.empty(), SeccompProfiles.of(sc, DEFAULT_CAPS, "a"));
    }

    @Test
    void seccompField_winsOverTheDeprecatedPath() {
        var sc = LinuxContainerSecurityContext.newBuilder()
                .setSeccompProfilePath("runtime/default")
                .setSeccomp(SecurityProfile.newBuilder().setProfileType(SecurityProfile.ProfileType.Unconfined))
                .build();

        assertEquals(Optional.empty(), SeccompProfiles.of(sc, DEFAULT_CAPS, "a"));
    }

    @Test
    void pathWithoutLocalhostPrefix_isInvalidArgument(@TempDir Path tmp) {
        var e = assertThrows(
                CriException.InvalidArgument.class,
                () -> SeccompProfiles.of(
                        path(tmp.resolve("p.json").toString()), DEFAULT_CAPS, "create container \"c\""));

        assertTrue(e.getMessage().startsWith("create container \"c\": unsupported seccomp profile"), e.getMessage());
    }

    @Test
    void localhost_dockerFormat_convertedWithArchMapAndCapabilityConditions(@TempDir Path tmp) throws Exception {
        Path p = Files.writeString(tmp.resolve("p.json"), """
        {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
         "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
         "syscalls": [
           {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "comment": "dropped"},
           {"name": "chmod", "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_FOWNER"]}},
           {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
            "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}], "excludes": {"caps": ["CAP_SYS_ADMIN"]}}]}
        """);

        JsonNode f =
                SeccompProfiles.of(path("localhost/" + p), DEFAULT_CAPS, "a").orElseThrow();

        assertEquals("""
        {"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],\
        "syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"},{"names":["personality"],\
        "action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":0,"op":"SCMP_CMP_EQ"}]}]}""", f.toString());
    }

    @Test
    void localhost_securityProfileField_readsTheRef(@TempDir Path tmp) throws Exception {
        Path p = Files.writeString(tmp.resolve("p.json"), "{\"defaultAction\": \"SCMP_ACT_LOG\"}");
        var sc = LinuxContainerSecurityContext.newBuilder()
                .setSeccomp(SecurityProfile.newBuilder()
                        .setProfileType(SecurityProfile.ProfileType.Localhost)
                        .setLocalhostRef(p.toString()))
                .build();

        assertEquals(
                "SCMP_ACT_LOG",
                SeccompProfiles.of(sc, DEFAULT_CAPS, "a")
                        .orElseThrow()
                        .get("defaultAction")
                        .asText());
    }

    @Test
    void localhost_missingOrInvalidOrRelative_isInvalidArgument(@TempDir Path tmp) throws Exception {
        assertThrows(
                CriException.InvalidArgument.class,
                () -> SeccompProfiles.of(path("localhost/" + tmp.resolve("none.json")), DEFAULT_CAPS, "a"));
        Path bad = Files.writeString(tmp.resolve("bad.json"), "{\"syscalls\": []}");
        assertThrows(
                CriException.InvalidArgument.class,
                () -> SeccompProfiles.of(path("localhost/" + bad), DEFAULT_CAPS, "a"));
        assertThrows(
                CriException.InvalidArgument.class,
                () -> SeccompProfiles.of(path("localhost/relative.json"), DEFAULT_CAPS, "a"));
    }

    // Issue 11: a profile path is chosen by whoever creates the pod.

    @Test
    void localhost_fifo_isRefusedAtOnce_notWaitedOn(@TempDir Path tmp) throws Exception {
        Path fifo = tmp.resolve("fifo");
        new io.stevedore.oci.linux.LinuxSyscalls().mknod(fifo, io.stevedore.oci.linux.Syscalls.S_IFIFO | 0600, 0, 0);
        var e = assertThrows(
                CriException.InvalidArgument.class,
                () -> SeccompProfiles.of(path("localhost/" + fifo), DEFAULT_CAPS, "a"));
        assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
    }

    @Test
    void localhost_devZero_isRefused_notReadIntoTheHeap() {
        var e = assertThrows(
                CriException.InvalidArgument.class,
                () -> SeccompProfiles.of(path("localhost//dev/zero"), DEFAULT_CAPS, "a"));
        assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
    }

    @Test
    void localhost_notJson_errorNeverQuotesTheFile(@TempDir Path tmp) throws Exception {
        Path shadowLike = Files.writeString(tmp.resolve("shadow"), "root:$6$secrethash:19000:0:99999:7:::\n");
        var e = assertThrows(
                CriException.InvalidArgument.class,
                () -> SeccompProfiles.of(path("localhost/" + shadowLike), DEFAULT_CAPS, "a"));
        assertFalse(e.getMessage().contains("root"), e.getMessage());
        assertFalse(e.getMessage().contains("secrethash"), e.getMessage());
        assertTrue(e.getMessage().contains("is not JSON"), e.getMessage());
    }

    @Test
    void localhost_tooLarge_isRefused(@TempDir Path tmp) throws Exception {
        Path big = Files.write(tmp.resolve("big.json"), new byte[SeccompProfiles.MAX_PROFILE_BYTES + 1]);
        var e = assertThrows(
                CriException.InvalidArgument.class,
                () -> SeccompProfiles.of(path("localhost/" + big), DEFAULT_CAPS, "a"));
        assertTrue(e.getMessage().contains("larger than"), e.getMessage());
    }
}

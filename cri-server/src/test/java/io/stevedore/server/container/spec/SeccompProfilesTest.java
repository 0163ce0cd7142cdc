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

    private static String verdict(JsonNode filter, String call, long... args) {
        long[] six = new long[6];
        System.arraycopy(args, 0, six, 0, args.length);
        return DefaultSeccompProfileTest.verdict(filter, call, six);
    }

    @Test
    void emptyAndUnconfined_haveNoFilter() {
        assertEquals(Optional.empty(), SeccompProfiles.of(path(""), DEFAULT_CAPS, "a"));
        assertEquals(Optional.empty(), SeccompProfiles.of(path("unconfined"), DEFAULT_CAPS, "a"));
    }

    @Test
    void runtimeDefault_isAnAllowListRefusingWithEperm() {
        JsonNode f =
                SeccompProfiles.of(path("runtime/default"), DEFAULT_CAPS, "a").orElseThrow();

        assertEquals("SCMP_ACT_ERRNO", f.get("defaultAction").asText());
        assertEquals(1, f.get("defaultErrnoRet").asInt());
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
            assertEquals("ERRNO 1", verdict(f, call), call);
        }
        assertEquals("SCMP_ACT_ALLOW", verdict(f, "read"));
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

        JsonNode f = SeccompProfiles.of(path("runtime/default"), caps, "a").orElseThrow();

        assertEquals("SCMP_ACT_ALLOW", verdict(f, "sethostname"));
        assertEquals("SCMP_ACT_ALLOW", verdict(f, "mount"));
        assertEquals("ERRNO 1", verdict(f, "reboot"), "CAP_SYS_BOOT's group stays refused");
        assertEquals("ERRNO 1", verdict(f, "kexec_load"), "never allowed");
    }

    @Test
    void localhost_dockerRuleForOtherArch_isDropped(@TempDir Path tmp) throws Exception {
        // Docker's own profile filters clone's second argument on s390 only; kept elsewhere it would
        // let any clone through whose stack pointer has no namespace bits.
        Path p = Files.writeString(tmp.resolve("p.json"), """
        {"defaultAction": "SCMP_ACT_ERRNO",
         "syscalls": [
           {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
            "args": [{"index": 1, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
            "includes": {"arches": ["s390", "s390x"]}},
           {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
            "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
            "excludes": {"arches": ["s390", "s390x"]}}]}
        """);

        JsonNode f =
                SeccompProfiles.of(path("localhost/" + p), DEFAULT_CAPS, "a").orElseThrow();

        assertEquals(1, f.get("syscalls").size(), f.toString());
        assertEquals(0, f.get("syscalls").get(0).get("args").get(0).get("index").asInt());
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
        org.junit.jupiter.api.Assumptions.assumeTrue(DefaultSeccompProfile.HOST_ARCH.equals("amd64"), "an x86-64 host");
        Path p = Files.writeString(tmp.resolve("p.json"), """
        {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
         "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]},
                     {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
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

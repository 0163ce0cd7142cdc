package io.stevedore.server.container.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The runtime/default filter judged as the kernel would: {@link #verdict} evaluates the emitted
 * OCI rules for one call, so each case states what a process in the container gets.
 */
class DefaultSeccompProfileTest {
    /** containerd's default bounding set. */
    static final List<String> DEFAULT_CAPS = List.of(
            "CAP_CHOWN",
            "CAP_DAC_OVERRIDE",
            "CAP_FSETID",
            "CAP_FOWNER",
            "CAP_MKNOD",
            "CAP_NET_RAW",
            "CAP_SETGID",
            "CAP_SETUID",
            "CAP_SETFCAP",
            "CAP_SETPCAP",
            "CAP_NET_BIND_SERVICE",
            "CAP_SYS_CHROOT",
            "CAP_KILL",
            "CAP_AUDIT_WRITE");

    static final String ALLOW = "SCMP_ACT_ALLOW";
    static final String EPERM = "ERRNO 1";
    static final String ENOSYS = "ERRNO 38";

    /**
     * What the filter does with {@code name(args…)}: an unconditional rule naming the call wins;
     * otherwise the first conditional rule whose conditions all hold; otherwise the default.
     */
    static String verdict(JsonNode filter, String name, long... args) {
        String conditional = null;
        for (JsonNode r : filter.get("syscalls")) {
            if (!names(r).contains(name)) continue;
            String action = r.get("action").asText();
            if (action.equals("SCMP_ACT_ERRNO"))
                action = "ERRNO " + r.get("errnoRet").asInt();
            if (!r.has("args")) return action;
            if (conditional == null && matches(r.get("args"), args)) conditional = action;
        }
        return conditional != null
                ? conditional
                : "ERRNO " + filter.get("defaultErrnoRet").asInt();
    }

    private static boolean matches(JsonNode conds, long[] args) {
        for (JsonNode c : conds) {
            long a = args[c.get("index").asInt()];
            long v = c.get("value").asLong();
            boolean ok = switch (c.get("op").asText()) {
                case "SCMP_CMP_EQ" -> a == v;
                case "SCMP_CMP_NE" -> a != v;
                case "SCMP_CMP_LT" -> Long.compareUnsigned(a, v) < 0;
                case "SCMP_CMP_GT" -> Long.compareUnsigned(a, v) > 0;
                case "SCMP_CMP_MASKED_EQ" -> (a & v) == c.get("valueTwo").asLong();
                default -> throw new AssertionError("op " + c.get("op"));
            };
            if (!ok) return false;
        }
        return true;
    }

    private static List<String> names(JsonNode rule) {
        var out = new ArrayList<String>();
        rule.get("names").forEach(n -> out.add(n.asText()));
        return out;
    }

    static JsonNode amd64(String... extraCaps) {
        var caps = new ArrayList<>(DEFAULT_CAPS);
        caps.addAll(List.of(extraCaps));
        return DefaultSeccompProfile.of(caps, "amd64", true);
    }

    static final long CLONE_NEWUSER = 0x10000000L;
    static final long CLONE_NEWNET = 0x40000000L;
    static final long THREAD_FLAGS = 0x003d0f00L; // what glibc's pthread_create passes

    record Case(String desc, JsonNode filter, String call, long[] args, String expected) {
        @Override
        public String toString() {
            return desc;
        }
    }

    static Stream<Case> cases() {
        JsonNode plain = amd64();
        JsonNode admin = amd64("CAP_SYS_ADMIN");
        return Stream.of(
                new Case("read allowed", plain, "read", new long[0], ALLOW),
                new Case("keyctl refused", plain, "keyctl", new long[0], EPERM),
                new Case("add_key refused", plain, "add_key", new long[0], EPERM),
                new Case("io_uring refused", plain, "io_uring_setup", new long[0], EPERM),
                new Case("unshare refused", plain, "unshare", new long[] {CLONE_NEWUSER}, EPERM),
                new Case("unshare with CAP_SYS_ADMIN", admin, "unshare", new long[] {CLONE_NEWUSER}, ALLOW),
                new Case("mount refused", plain, "mount", new long[0], EPERM),
                new Case("kexec never", admin, "kexec_load", new long[0], EPERM),
                new Case("clone of a thread", plain, "clone", new long[] {THREAD_FLAGS, 0}, ALLOW),
                new Case("clone of a process (fork)", plain, "clone", new long[] {17, 0}, ALLOW),
                new Case("clone NEWUSER refused", plain, "clone", new long[] {CLONE_NEWUSER | 17, 0}, EPERM),
                new Case("clone NEWNET refused", plain, "clone", new long[] {CLONE_NEWNET, 0}, EPERM),
                new Case("clone NEWUSER with CAP_SYS_ADMIN", admin, "clone", new long[] {CLONE_NEWUSER, 0}, ALLOW),
                new Case("clone3 is ENOSYS", plain, "clone3", new long[0], ENOSYS),
                new Case("clone3 with CAP_SYS_ADMIN", admin, "clone3", new long[0], ALLOW),
                new Case("personality linux", plain, "personality", new long[] {0}, ALLOW),
                new Case("personality query", plain, "personality", new long[] {0xffffffffL}, ALLOW),
                new Case("personality READ_IMPLIES_EXEC refused", plain, "personality", new long[] {0x0400000}, EPERM),
                new Case("socket inet", plain, "socket", new long[] {2}, ALLOW),
                new Case("socket AF_ALG refused", plain, "socket", new long[] {38}, EPERM),
                new Case("socket AF_NFC (39)", plain, "socket", new long[] {39}, ALLOW),
                new Case("socket AF_VSOCK refused", plain, "socket", new long[] {40}, EPERM),
                new Case("socket AF_XDP (44)", plain, "socket", new long[] {44}, ALLOW),
                new Case("chroot with default caps", plain, "chroot", new long[0], ALLOW),
                new Case("reboot without CAP_SYS_BOOT", plain, "reboot", new long[0], EPERM),
                new Case("ptrace on 4.8+", plain, "ptrace", new long[0], ALLOW),
                new Case("arch_prctl on amd64", plain, "arch_prctl", new long[0], ALLOW),
                new Case("cacheflush is arm's", plain, "cacheflush", new long[0], EPERM));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void runtimeDefault_judgesCallAsDockerDoes(Case c) {
        assertEquals(c.expected(), verdict(c.filter(), c.call(), pad(c.args())), c.desc());
    }

    private static long[] pad(long[] args) {
        long[] out = new long[6];
        System.arraycopy(args, 0, out, 0, args.length);
        return out;
    }

    @ParameterizedTest
    @CsvSource({
        "amd64, SCMP_ARCH_X86_64 SCMP_ARCH_X86 SCMP_ARCH_X32",
        "arm64, SCMP_ARCH_AARCH64 SCMP_ARCH_ARM",
        "s390x, SCMP_ARCH_S390X SCMP_ARCH_S390",
        "ppc64le, SCMP_ARCH_PPC64LE",
        "riscv64, SCMP_ARCH_RISCV64"
    })
    void architectures_nativeAndItsCompatAbis(String arch, String abis) {
        var out = new ArrayList<String>();
        DefaultSeccompProfile.of(DEFAULT_CAPS, arch, true).get("architectures").forEach(a -> out.add(a.asText()));
        assertEquals(List.of(abis.split(" ")), out);
    }

    @Test
    void arm64_getsArmCallsNotX86Ones() {
        JsonNode f = DefaultSeccompProfile.of(DEFAULT_CAPS, "arm64", true);
        assertEquals(ALLOW, verdict(f, "cacheflush", pad(new long[0])));
        assertEquals(EPERM, verdict(f, "arch_prctl", pad(new long[0])));
        assertEquals(EPERM, verdict(f, "clone", pad(new long[] {CLONE_NEWUSER})));
    }

    @Test
    void s390x_filtersCloneFlagsInTheSecondArgument() {
        JsonNode f = DefaultSeccompProfile.of(DEFAULT_CAPS, "s390x", true);
        assertEquals(ALLOW, verdict(f, "clone", pad(new long[] {CLONE_NEWUSER, 0})), "arg 0 is the stack there");
        assertEquals(EPERM, verdict(f, "clone", pad(new long[] {0, CLONE_NEWUSER})));
    }

    @Test
    void oldKernel_ptraceNeedsCapSysPtrace() {
        assertEquals(
                EPERM, verdict(DefaultSeccompProfile.of(DEFAULT_CAPS, "amd64", false), "ptrace", pad(new long[0])));
        var caps = new ArrayList<>(DEFAULT_CAPS);
        caps.add("CAP_SYS_PTRACE");
        assertEquals(ALLOW, verdict(DefaultSeccompProfile.of(caps, "amd64", false), "ptrace", pad(new long[0])));
    }

    @Test
    void allowList_hasNoDuplicatesAndNoCallThatNeedsACapability() {
        var seen = new HashSet<String>();
        DefaultSeccompProfile.ALLOWED.forEach(g -> g.forEach(n -> assertTrue(seen.add(n), n + " listed twice")));
        for (var r : DefaultSeccompProfile.RULES) {
            if (!r.caps().isEmpty()) {
                r.names().forEach(n -> assertFalse(seen.contains(n), n + " is both plain and capability-bound"));
            }
        }
        assertTrue(seen.size() > 350, "the whole list: " + seen.size());
    }

    @Test
    void defaultAction_isEperm() {
        JsonNode f = amd64();
        assertEquals("SCMP_ACT_ERRNO", f.get("defaultAction").asText());
        assertEquals(1, f.get("defaultErrnoRet").asInt());
    }

    @ParameterizedTest
    @CsvSource({"amd64, amd64", "x86_64, amd64", "aarch64, arm64", "i386, x86", "s390x, s390x", "ppc64le, ppc64le"})
    void arch_fromJavaOsArch(String osArch, String expected) {
        assertEquals(expected, DefaultSeccompProfile.arch(osArch));
    }

    @ParameterizedTest
    @CsvSource({"6.18.44-fc-v1252, true", "4.8.0, true", "4.7.10, false", "3.10.0-1160.el7.x86_64, false"})
    void kernelAtLeast_4_8(String release, boolean expected) {
        assertEquals(expected, DefaultSeccompProfile.kernelAtLeast(release, 4, 8));
    }
}

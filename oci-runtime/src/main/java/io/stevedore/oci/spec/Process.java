package io.stevedore.oci.spec;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonInclude.Include;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.List;
import java.util.Objects;

/**
 * The container process ({@code process}), also the body of {@code runc exec --process}.
 *
 * <p>{@code user} and {@code cwd} are required by the spec and always written; numbers are boxed
 * so that an explicit {@code oomScoreAdj: 0} survives while an absent one stays absent.
 *
 * @param consoleSize initial terminal size; only meaningful with {@code terminal}
 * @param oomScoreAdj written whenever non-null, including 0
 */
@JsonInclude(Include.NON_EMPTY)
public record Process(
        @JsonInclude(Include.NON_DEFAULT) boolean terminal,
        ConsoleSize consoleSize,
        @JsonInclude(Include.ALWAYS) User user,
        List<String> args,
        List<String> env,
        @JsonInclude(Include.ALWAYS) String cwd,
        Capabilities capabilities,
        List<Rlimit> rlimits,
        @JsonInclude(Include.NON_DEFAULT) boolean noNewPrivileges,
        String apparmorProfile,
        @JsonInclude(Include.NON_NULL) Integer oomScoreAdj,
        String selinuxLabel) {
    public Process {
        user = user == null ? User.ROOT : user;
        cwd = cwd == null || cwd.isEmpty() ? "/" : cwd;
        args = Copies.list(args);
        env = Copies.list(env);
        rlimits = Copies.list(rlimits);
    }

    /** Root, in {@code /}, with nothing else set. */
    public static Process of(List<String> args) {
        return new Process(false, null, User.ROOT, args, List.of(), "/", null, List.of(), false, null, null, null);
    }

    public Process withTerminal(boolean terminal) {
        return new Process(
                terminal,
                consoleSize,
                user,
                args,
                env,
                cwd,
                capabilities,
                rlimits,
                noNewPrivileges,
                apparmorProfile,
                oomScoreAdj,
                selinuxLabel);
    }

    public Process withUser(User user) {
        return new Process(
                terminal,
                consoleSize,
                user,
                args,
                env,
                cwd,
                capabilities,
                rlimits,
                noNewPrivileges,
                apparmorProfile,
                oomScoreAdj,
                selinuxLabel);
    }

    public Process withArgs(List<String> args) {
        return new Process(
                terminal,
                consoleSize,
                user,
                args,
                env,
                cwd,
                capabilities,
                rlimits,
                noNewPrivileges,
                apparmorProfile,
                oomScoreAdj,
                selinuxLabel);
    }

    public Process withEnv(List<String> env) {
        return new Process(
                terminal,
                consoleSize,
                user,
                args,
                env,
                cwd,
                capabilities,
                rlimits,
                noNewPrivileges,
                apparmorProfile,
                oomScoreAdj,
                selinuxLabel);
    }

    public Process withCwd(String cwd) {
        return new Process(
                terminal,
                consoleSize,
                user,
                args,
                env,
                cwd,
                capabilities,
                rlimits,
                noNewPrivileges,
                apparmorProfile,
                oomScoreAdj,
                selinuxLabel);
    }

    public Process withCapabilities(Capabilities capabilities) {
        return new Process(
                terminal,
                consoleSize,
                user,
                args,
                env,
                cwd,
                capabilities,
                rlimits,
                noNewPrivileges,
                apparmorProfile,
                oomScoreAdj,
                selinuxLabel);
    }

    public Process withNoNewPrivileges(boolean noNewPrivileges) {
        return new Process(
                terminal,
                consoleSize,
                user,
                args,
                env,
                cwd,
                capabilities,
                rlimits,
                noNewPrivileges,
                apparmorProfile,
                oomScoreAdj,
                selinuxLabel);
    }

    public Process withConsoleSize(ConsoleSize consoleSize) {
        return new Process(
                terminal,
                consoleSize,
                user,
                args,
                env,
                cwd,
                capabilities,
                rlimits,
                noNewPrivileges,
                apparmorProfile,
                oomScoreAdj,
                selinuxLabel);
    }

    public Process withRlimits(List<Rlimit> rlimits) {
        return new Process(
                terminal,
                consoleSize,
                user,
                args,
                env,
                cwd,
                capabilities,
                rlimits,
                noNewPrivileges,
                apparmorProfile,
                oomScoreAdj,
                selinuxLabel);
    }

    public Process withOomScoreAdj(Integer oomScoreAdj) {
        return new Process(
                terminal,
                consoleSize,
                user,
                args,
                env,
                cwd,
                capabilities,
                rlimits,
                noNewPrivileges,
                apparmorProfile,
                oomScoreAdj,
                selinuxLabel);
    }

    /** The AppArmor profile the runtime applies ({@code apparmorProfile}); null for none. */
    public Process withApparmorProfile(String apparmorProfile) {
        return new Process(
                terminal,
                consoleSize,
                user,
                args,
                env,
                cwd,
                capabilities,
                rlimits,
                noNewPrivileges,
                apparmorProfile,
                oomScoreAdj,
                selinuxLabel);
    }

    /** Terminal size in characters ({@code consoleSize}); both fields are required. */
    public record ConsoleSize(int height, int width) {}

    /**
     * The user the process runs as ({@code user}). uid and gid are Go {@code uint32}s, hence {@code long}.
     *
     * @param umask null to keep the runtime's default
     */
    @JsonInclude(Include.NON_EMPTY)
    public record User(
            @JsonInclude(Include.ALWAYS) long uid,
            @JsonInclude(Include.ALWAYS) long gid,
            @JsonInclude(Include.NON_NULL) Integer umask,
            List<Long> additionalGids) {
        public static final User ROOT = new User(0, 0, null, List.of());

        public User {
            additionalGids = Copies.list(additionalGids);
        }

        public User(long uid, long gid) {
            this(uid, gid, null, List.of());
        }
    }

    /** Capability sets, by name ({@code CAP_CHOWN}…). */
    @JsonInclude(Include.NON_EMPTY)
    public record Capabilities(
            List<String> bounding,
            List<String> effective,
            List<String> inheritable,
            List<String> permitted,
            List<String> ambient) {
        public Capabilities {
            bounding = Copies.list(bounding);
            effective = Copies.list(effective);
            inheritable = Copies.list(inheritable);
            permitted = Copies.list(permitted);
            ambient = Copies.list(ambient);
        }
    }

    /**
     * A POSIX resource limit. {@code hard} and {@code soft} are Go {@code uint64}s held unsigned in a
     * {@code long}: {@code -1} is RLIM_INFINITY ({@code 18446744073709551615} in JSON).
     *
     * @param type the limit's name, e.g. {@code RLIMIT_NOFILE}
     */
    public record Rlimit(
            String type,

            @JsonSerialize(using = Unsigned64.Serializer.class) @JsonDeserialize(using = Unsigned64.Deserializer.class)
            long hard,

            @JsonSerialize(using = Unsigned64.Serializer.class) @JsonDeserialize(using = Unsigned64.Deserializer.class)
            long soft) {
        public Rlimit {
            Objects.requireNonNull(type, "type");
        }
    }
}

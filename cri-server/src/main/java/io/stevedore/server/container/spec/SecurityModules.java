package io.stevedore.server.container.spec;

import io.stevedore.cri.v1.LinuxContainerSecurityContext;
import io.stevedore.cri.v1.SELinuxOption;
import io.stevedore.cri.v1.SecurityProfile;
import io.stevedore.oci.spec.Spec;
import io.stevedore.server.error.CriException;

/**
 * AppArmor and SELinux requests, honoured or refused but never dropped: a pod author who asks for a
 * confinement and silently runs without it has been lied to (issue 14).
 *
 * <p>AppArmor, chosen as containerd's {@code generateApparmorSpecOpts} chooses: the {@code apparmor}
 * profile when set, else the deprecated {@code apparmor_profile} string ({@code runtime/default},
 * {@code unconfined}, {@code localhost/<name>}; empty means the runtime default). {@code Unconfined}
 * is nothing to do. {@code RuntimeDefault} is accepted as unconfined on a host without AppArmor, as
 * containerd accepts it there (the kubelet sends it for every container); where AppArmor is enabled
 * we do not yet generate and load a default profile, so it runs unconfined there too. {@code
 * Localhost} is applied ({@code process.apparmorProfile}, which the runtime loads or fails on) where
 * AppArmor is enabled, and refused where it is not.
 *
 * <p>SELinux: options with any field set are refused on a host without SELinux; where SELinux is
 * enabled they are refused as well, because labels are not applied yet (neither process nor mount
 * label): refusing is the honest answer until they are.
 */
final class SecurityModules {
    private static final String APPARMOR_FIELD = "linux.security_context.apparmor";
    private static final String APPARMOR_PROFILE_FIELD = "linux.security_context.apparmor_profile";
    private static final String SELINUX_FIELD = "linux.security_context.selinux_options";
    private static final String LOCALHOST_PREFIX = "localhost/";

    private SecurityModules() {}

    /**
     * {@code spec} with the AppArmor profile the CRI asks for, after the SELinux check.
     *
     * @param apparmorEnabled whether the host has AppArmor ({@link HostProbe#apparmorEnabled})
     * @param selinuxEnabled whether the host has SELinux ({@link HostProbe#selinuxEnabled})
     * @throws CriException.FailedPrecondition for a confinement this host or runtime cannot apply
     * @throws CriException.InvalidArgument for a malformed profile name
     */
    static Spec apply(
            Spec s, LinuxContainerSecurityContext sc, boolean apparmorEnabled, boolean selinuxEnabled, String action) {
        checkSelinux(sc, selinuxEnabled, action);
        String localhost = localhostProfile(sc, action);
        if (localhost == null) {
            return s; // unconfined, or the runtime default (see above)
        }
        if (!apparmorEnabled) {
            throw new CriException.FailedPrecondition(("%s: AppArmor profile \"localhost/%s\" (%s) cannot be applied:"
                            + " AppArmor is not enabled on this host (/sys/module/apparmor/parameters/enabled)")
                    .formatted(action, CriException.shown(localhost), field(sc)));
        }
        return s.withProcess(s.process().withApparmorProfile(localhost));
    }

    /** The Localhost profile's name; null for unconfined or the runtime default. */
    private static String localhostProfile(LinuxContainerSecurityContext sc, String action) {
        if (sc.hasApparmor()) {
            SecurityProfile p = sc.getApparmor();
            return switch (p.getProfileType()) {
                case RuntimeDefault, Unconfined -> null;
                case Localhost -> {
                    // containerd trims the prefix too, "just in case" a kubelet sends it
                    String name = p.getLocalhostRef().startsWith(LOCALHOST_PREFIX)
                            ? p.getLocalhostRef().substring(LOCALHOST_PREFIX.length())
                            : p.getLocalhostRef();
                    yield checkedName(name, APPARMOR_FIELD, action);
                }
                case UNRECOGNIZED ->
                    throw new CriException.InvalidArgument(
                            "%s: %s: unknown AppArmor profile type".formatted(action, APPARMOR_FIELD));
            };
        }
        String legacy = sc.getApparmorProfile();
        if (legacy.isEmpty() || legacy.equals("runtime/default") || legacy.equals("unconfined")) {
            return null;
        }
        if (legacy.startsWith(LOCALHOST_PREFIX)) {
            return checkedName(legacy.substring(LOCALHOST_PREFIX.length()), APPARMOR_PROFILE_FIELD, action);
        }
        throw new CriException.InvalidArgument("%s: %s \"%s\" is not runtime/default, unconfined or localhost/<profile>"
                .formatted(action, APPARMOR_PROFILE_FIELD, CriException.shown(legacy)));
    }

    /** A profile name as AppArmor takes it: not empty, no control characters, not absurdly long. */
    private static String checkedName(String name, String field, String action) {
        if (name.isEmpty() || name.length() > 1024 || name.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new CriException.InvalidArgument(
                    "%s: %s: invalid AppArmor profile name \"%s\"".formatted(action, field, CriException.shown(name)));
        }
        return name;
    }

    private static String field(LinuxContainerSecurityContext sc) {
        return sc.hasApparmor() ? APPARMOR_FIELD : APPARMOR_PROFILE_FIELD;
    }

    private static void checkSelinux(LinuxContainerSecurityContext sc, boolean selinuxEnabled, String action) {
        if (!sc.hasSelinuxOptions()) return;
        SELinuxOption o = sc.getSelinuxOptions();
        if (o.getUser().isEmpty()
                && o.getRole().isEmpty()
                && o.getType().isEmpty()
                && o.getLevel().isEmpty()) {
            return; // the kubelet may send an empty message: nothing is asked
        }
        String label = CriException.shown(String.join(":", o.getUser(), o.getRole(), o.getType(), o.getLevel()));
        if (!selinuxEnabled) {
            throw new CriException.FailedPrecondition(("%s: SELinux options \"%s\" (%s) cannot be applied:"
                            + " SELinux is not enabled on this host (/sys/fs/selinux)")
                    .formatted(action, label, SELINUX_FIELD));
        }
        throw new CriException.FailedPrecondition(
                "%s: SELinux options \"%s\" (%s) cannot be applied: this runtime does not set SELinux labels yet"
                        .formatted(action, label, SELINUX_FIELD));
    }
}

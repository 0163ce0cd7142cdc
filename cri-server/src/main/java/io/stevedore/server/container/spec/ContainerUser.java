package io.stevedore.server.container.spec;

import io.stevedore.cri.v1.LinuxContainerSecurityContext;
import io.stevedore.oci.spec.Process;
import io.stevedore.server.error.CriException;
import io.stevedore.server.image.manifest.ImageConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * The user a container runs as ({@code process.user}), resolved as containerd does it: the CRI
 * security context first ({@code util.GenerateUserString}), else the image's {@code User}; names
 * looked up in the rootfs's {@code /etc/passwd} and {@code /etc/group} ({@code oci.WithUser}); then
 * additional gids = the primary gid, the groups in {@code /etc/group} that list the user
 * ({@code WithAdditionalGIDs}, policy {@code Merge} only) and the CRI {@code supplemental_groups},
 * sorted without duplicates ({@code mergeGids}).
 *
 * <p>A numeric user needs no files; a name that is not in {@code /etc/passwd} is an
 * InvalidArgument. Both files are read inside the rootfs ({@link RootfsPaths}).
 */
final class ContainerUser {
    /** runc refuses ids above MaxInt32, so containerd does too. */
    private static final BigInteger MAX_ID = BigInteger.valueOf(Integer.MAX_VALUE);

    private static final Pattern NUMBER = Pattern.compile("[+-]?[0-9]+");

    private final Path rootfs;
    private final String action;
    private List<PasswdEntry> passwd;
    private List<GroupEntry> groups;

    private ContainerUser(Path rootfs, String action) {
        this.rootfs = rootfs;
        this.action = action;
    }

    /**
     * @param action prefix of error messages, e.g. {@code create container "web"}
     */
    static Process.User resolve(LinuxContainerSecurityContext sc, ImageConfig image, Path rootfs, String action) {
        return new ContainerUser(rootfs, action).resolve(sc, image);
    }

    private Process.User resolve(LinuxContainerSecurityContext sc, ImageConfig image) {
        String user = criUser(sc);
        if (user.isEmpty()) {
            user = image.user();
        }
        Ids ids = user.isEmpty() ? new Ids(0, 0) : ids(user);
        TreeSet<Long> gids = new TreeSet<>();
        gids.add(ids.gid());
        switch (sc.getSupplementalGroupsPolicy()) {
            case Merge -> gids.addAll(groupsListing(groupsUser(sc, image)));
            case Strict -> {}
            default ->
                throw new CriException.InvalidArgument("%s: unknown supplemental_groups_policy %d"
                        .formatted(action, sc.getSupplementalGroupsPolicyValue()));
        }
        for (long g : sc.getSupplementalGroupsList()) {
            if (g < 0 || g > Integer.MAX_VALUE) {
                throw new CriException.InvalidArgument(
                        "%s: supplemental group %d is out of range".formatted(action, g));
            }
            gids.add(g);
        }
        return new Process.User(ids.uid(), ids.gid(), null, List.copyOf(gids));
    }

    /** {@code name}, {@code uid}, {@code name:gid} or {@code uid:gid}; "" when the CRI names no user. */
    private String criUser(LinuxContainerSecurityContext sc) {
        String user = "";
        if (sc.hasRunAsUser()) {
            user = Long.toString(sc.getRunAsUser().getValue());
        }
        if (!sc.getRunAsUsername().isEmpty()) {
            user = sc.getRunAsUsername();
        }
        if (sc.hasRunAsGroup()) {
            if (user.isEmpty()) {
                throw new CriException.InvalidArgument("%s: user group \"%d\" is specified without user"
                        .formatted(action, sc.getRunAsGroup().getValue()));
            }
            user = user + ":" + sc.getRunAsGroup().getValue();
        }
        return user;
    }

    /** The ids of a USER value, as {@code oci.WithUser}. */
    private Ids ids(String user) {
        String[] parts = user.split(":", -1);
        if (parts.length == 1) {
            if (isNumber(parts[0])) {
                long uid = id(parts[0], user, "uid");
                // A uid that /etc/passwd does not know runs with gid 0.
                return new Ids(
                        uid, findUser(u -> u.uid() == uid).map(PasswdEntry::gid).orElse(0L));
            }
            PasswdEntry u = findUser(e -> e.name().equals(parts[0])).orElseThrow(() -> unknownUser(parts[0]));
            return new Ids(u.uid(), u.gid());
        }
        if (parts.length != 2) {
            throw new CriException.InvalidArgument("%s: invalid USER value \"%s\"".formatted(action, user));
        }
        long uid;
        if (parts[0].isEmpty()) {
            uid = 0;
        } else if (isNumber(parts[0])) {
            uid = id(parts[0], user, "uid");
        } else {
            uid = findUser(e -> e.name().equals(parts[0]))
                    .orElseThrow(() -> unknownUser(parts[0]))
                    .uid();
        }
        long gid;
        if (parts[1].isEmpty()) {
            gid = 0;
        } else if (isNumber(parts[1])) {
            gid = id(parts[1], user, "gid");
        } else {
            gid = groups().stream()
                    .filter(g -> g.name().equals(parts[1]))
                    .findFirst()
                    .orElseThrow(() -> new CriException.InvalidArgument(
                            "%s: group \"%s\" is not in the image's /etc/group".formatted(action, parts[1])))
                    .gid();
        }
        return new Ids(uid, gid);
    }

    /** The user whose groups are looked up: containerd's {@code containerSpecOpts} choice. */
    private static String groupsUser(LinuxContainerSecurityContext sc, ImageConfig image) {
        if (!sc.getRunAsUsername().isEmpty()) {
            return sc.getRunAsUsername();
        }
        if (sc.hasRunAsUser()) {
            return Long.toString(sc.getRunAsUser().getValue());
        }
        if (!image.user().isEmpty()) {
            int colon = image.user().indexOf(':');
            return colon < 0 ? image.user() : image.user().substring(0, colon);
        }
        return "0";
    }

    /** gids of the groups that list {@code user} as a member, but not its own group (same name). */
    private List<Long> groupsListing(String user) {
        String name = user;
        if (isNumber(user)) {
            BigInteger uid = integer(user);
            Optional<PasswdEntry> u = findUser(e -> BigInteger.valueOf(e.uid()).equals(uid));
            if (u.isEmpty()) {
                return List.of();
            }
            name = u.get().name();
        }
        String member = name;
        return groups().stream()
                .filter(g -> !g.name().equals(member) && g.members().contains(member))
                .map(GroupEntry::gid)
                .toList();
    }

    private long id(String text, String user, String what) {
        BigInteger v = integer(text);
        if (v.signum() < 0 || v.compareTo(MAX_ID) > 0) {
            throw new CriException.InvalidArgument(
                    "%s: invalid USER value \"%s\": %s out of range".formatted(action, user, what));
        }
        return v.longValue();
    }

    /**
     * Digits with an optional sign, as Go's {@code strconv.Atoi} takes them; of any length, so that a
     * huge uid is out of range rather than a user name.
     */
    private static boolean isNumber(String s) {
        return NUMBER.matcher(s).matches();
    }

    private static BigInteger integer(String number) {
        return new BigInteger(number);
    }

    private CriException unknownUser(String name) {
        return new CriException.InvalidArgument(
                "%s: user \"%s\" is not in the image's /etc/passwd".formatted(action, name));
    }

    private Optional<PasswdEntry> findUser(Predicate<PasswdEntry> p) {
        if (passwd == null) {
            passwd = read("etc/passwd").stream()
                    .map(f -> new PasswdEntry(f[0], number(f[2]), number(f.length > 3 ? f[3] : "")))
                    .filter(e -> e.uid() >= 0 && e.gid() >= 0)
                    .toList();
        }
        return passwd.stream().filter(p).findFirst();
    }

    private List<GroupEntry> groups() {
        if (groups == null) {
            groups = read("etc/group").stream()
                    .map(f -> new GroupEntry(
                            f[0],
                            number(f[2]),
                            f.length > 3 && !f[3].isEmpty() ? Arrays.asList(f[3].split(",")) : List.of()))
                    .filter(g -> g.gid() >= 0)
                    .toList();
        }
        return groups;
    }

    /** The fields of each entry (3 or more, colon-separated); none when the file is missing. */
    private List<String[]> read(String file) {
        Path p;
        try {
            p = RootfsPaths.regularFile(rootfs, file);
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("%s: read /%s of the image: %s".formatted(action, file, e.getMessage()), e);
        }
        List<String[]> out = new ArrayList<>();
        // An InputStreamReader replaces malformed bytes where Files.newBufferedReader would throw.
        try (var r = new BufferedReader(new InputStreamReader(Files.newInputStream(p), StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                line = line.strip();
                // NIS entries (+/-) and comments name nobody we could resolve.
                if (line.isEmpty() || line.startsWith("#") || line.startsWith("+") || line.startsWith("-")) {
                    continue;
                }
                String[] fields = line.split(":", -1);
                if (fields.length >= 3) {
                    out.add(fields);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("%s: read /%s of the image: %s".formatted(action, file, e.getMessage()), e);
        }
        return out;
    }

    /** A non-negative id, or -1 for a field that is not one (that line is skipped). */
    private static long number(String s) {
        if (!s.matches("[0-9]{1,10}")) {
            return -1;
        }
        long v = Long.parseLong(s);
        return v > 0xffff_ffffL ? -1 : v;
    }

    private record Ids(long uid, long gid) {}

    private record PasswdEntry(String name, long uid, long gid) {}

    private record GroupEntry(String name, long gid, List<String> members) {}
}

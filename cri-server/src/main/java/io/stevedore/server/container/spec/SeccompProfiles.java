package io.stevedore.server.container.spec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stevedore.cri.v1.LinuxContainerSecurityContext;
import io.stevedore.cri.v1.SecurityProfile;
import io.stevedore.oci.linux.UntrustedFiles;
import io.stevedore.server.error.CriException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * A container's seccomp filter (OCI {@code linux.seccomp}) from its CRI security context, chosen as
 * containerd chooses it: none for a privileged container; the {@code seccomp} profile when set,
 * else the deprecated {@code seccomp_profile_path} ({@code ""} and {@code unconfined}: none;
 * {@code runtime/default} and {@code docker/default}: ours; {@code localhost/<absolute path>}: that
 * file; anything else is refused).
 *
 * <p>Our runtime default is {@link DefaultSeccompProfile}: the allow-list of Docker's and
 * containerd's default profile, with its capability, architecture and argument conditions.
 *
 * <p>A localhost profile is read in the Docker/containerd JSON format; {@code includes} and
 * {@code excludes} on capabilities are applied against the container's bounding set.
 */
final class SeccompProfiles {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SeccompProfiles() {}

    /** The filter for a container with {@code caps} in its bounding set; empty for none. */
    static Optional<JsonNode> of(LinuxContainerSecurityContext sc, Collection<String> caps, String action) {
        if (sc.getPrivileged()) return Optional.empty();
        if (sc.hasSeccomp()) {
            SecurityProfile p = sc.getSeccomp();
            return switch (p.getProfileType()) {
                case RuntimeDefault -> Optional.of(runtimeDefault(caps));
                case Unconfined -> Optional.empty();
                case Localhost -> Optional.of(localhost(p.getLocalhostRef(), caps, action));
                default ->
                    throw new CriException.InvalidArgument(
                            action + ": unknown seccomp profile type " + p.getProfileTypeValue());
            };
        }
        String path = sc.getSeccompProfilePath();
        return switch (path) {
            case "", "unconfined" -> Optional.empty();
            case "runtime/default", "docker/default" -> Optional.of(runtimeDefault(caps));
            default -> {
                if (!path.startsWith("localhost/")) {
                    throw new CriException.InvalidArgument(action + ": unsupported seccomp profile \"" + path
                            + "\": use \"unconfined\", \"runtime/default\" or \"localhost/<absolute path>\"");
                }
                yield Optional.of(localhost(path.substring("localhost/".length()), caps, action));
            }
        };
    }

    static JsonNode runtimeDefault(Collection<String> caps) {
        return DefaultSeccompProfile.forHost(caps);
    }

    /** A seccomp profile is kilobytes (Docker's default is ~20 KB); more is refused. */
    static final int MAX_PROFILE_BYTES = 1 << 20;
    /** A profile on a file system that does not answer in this time fails the request. */
    static final java.time.Duration READ_TIMEOUT = java.time.Duration.ofSeconds(5);

    private static JsonNode localhost(String ref, Collection<String> caps, String action) {
        Path file = Path.of(ref);
        if (!file.isAbsolute()) {
            throw new CriException.InvalidArgument(
                    action + ": seccomp profile \"" + ref + "\" is not an absolute path");
        }
        byte[] raw;
        try {
            raw = UntrustedFiles.readRegular(file, MAX_PROFILE_BYTES, READ_TIMEOUT);
        } catch (IOException e) {
            // The message names the path and the reason (ENOENT, not a regular file, too large…).
            throw new CriException.InvalidArgument(action + ": cannot read seccomp profile: " + e.getMessage());
        }
        JsonNode in;
        try {
            in = JSON.readTree(raw);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            // Never Jackson's message: it quotes the file ("Unrecognized token 'root'"), which would
            // let a pod author read any file on the host through an error.
            var at = e.getLocation();
            throw new CriException.InvalidArgument(action + ": seccomp profile \"" + ref + "\" is not JSON"
                    + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"));
        } catch (IOException e) {
            throw new CriException.InvalidArgument(action + ": seccomp profile \"" + ref + "\" is not JSON");
        }
        if (in == null || !in.isObject() || !in.path("defaultAction").isTextual()) {
            throw new CriException.InvalidArgument(action + ": seccomp profile \"" + ref + "\" has no defaultAction");
        }
        ObjectNode out = JSON.createObjectNode();
        for (String f : List.of("defaultAction", "defaultErrnoRet", "architectures", "flags")) {
            if (in.has(f)) out.set(f, in.get(f));
        }
        if (!in.has("architectures") && in.path("archMap").isArray()) {
            // Docker keeps the native architecture's entry only; listing a foreign one would make
            // the runtime fail where libseccomp does not know it.
            ArrayNode arches = out.putArray("architectures");
            String host = DefaultSeccompProfile.scmpArch(DefaultSeccompProfile.HOST_ARCH);
            for (JsonNode m : in.get("archMap")) {
                if (!m.path("architecture").asText().equals(host)) continue;
                arches.add(m.path("architecture"));
                m.path("subArchitectures").forEach(arches::add);
            }
        }
        ArrayNode rules = out.putArray("syscalls");
        for (JsonNode r : in.path("syscalls")) {
            if (!applies(r, caps, DefaultSeccompProfile.HOST_ARCH)) continue;
            ObjectNode o = rules.addObject();
            if (r.has("names")) o.set("names", r.get("names"));
            else if (r.has("name")) o.putArray("names").add(r.get("name"));
            for (String f : List.of("action", "errnoRet", "args")) {
                if (r.has(f)) o.set(f, r.get(f));
            }
        }
        return out;
    }

    /**
     * Docker's conditions on a rule: {@code includes.caps} all held, no {@code excludes.caps} held,
     * the host architecture among {@code includes.arches} (when given) and not among {@code
     * excludes.arches}. The architecture matters: Docker's own profile has a {@code clone} rule for
     * s390 that filters the second argument, which elsewhere is the stack pointer.
     */
    static boolean applies(JsonNode rule, Collection<String> caps, String arch) {
        JsonNode onlyOn = rule.path("includes").path("arches");
        if (onlyOn.isArray() && !onlyOn.isEmpty() && !contains(onlyOn, arch)) return false;
        if (contains(rule.path("excludes").path("arches"), arch)) return false;
        for (JsonNode c : rule.path("includes").path("caps")) {
            if (!caps.contains(c.asText())) return false;
        }
        for (JsonNode c : rule.path("excludes").path("caps")) {
            if (caps.contains(c.asText())) return false;
        }
        return true;
    }

    private static boolean contains(JsonNode array, String value) {
        for (JsonNode v : array) {
            if (v.asText().equals(value)) return true;
        }
        return false;
    }
}

package io.stevedore.server.image.ref;

import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A normalised image reference, {@code domain/path[:tag][@digest]}, following the rules of
 * distribution/reference's {@code ParseNormalizedNamed} that Docker, containerd and CRI-O share:
 *
 * <pre>
 * busybox                      → docker.io/library/busybox:latest
 * user/app                     → docker.io/user/app:latest
 * index.docker.io/user/app     → docker.io/user/app:latest
 * localhost/x                  → localhost/x:latest
 * host:5000/repo:tag           → host:5000/repo:tag
 * repo@sha256:…                → docker.io/library/repo@sha256:…   (no tag added)
 * repo:tag@sha256:…            → docker.io/library/repo:tag@sha256:… (both kept; the digest wins)
 * </pre>
 *
 * <p>The first path element is a registry host only if it contains {@code .} or {@code :}, is
 * {@code localhost}, or has uppercase letters; otherwise the image is on Docker Hub. Immutable.
 *
 * @param domain the registry host, with port if any ({@code docker.io}, {@code 127.0.0.1:5000})
 * @param path the repository path inside the registry ({@code library/busybox})
 * @param tag the tag, if any; {@link #parse} adds {@code latest} when neither tag nor digest given
 * @param digest the digest, if any
 */
public record ImageReference(String domain, String path, Optional<String> tag, Optional<Digest> digest) {
    public static final String DOCKER_HUB = "docker.io";
    private static final String LEGACY_DOCKER_HUB = "index.docker.io";
    private static final String OFFICIAL_PREFIX = "library/";
    private static final int NAME_MAX = 255;

    private static final String DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    private static final Pattern DOMAIN = Pattern.compile(
            "(?:" + DOMAIN_COMPONENT + "(?:\\." + DOMAIN_COMPONENT + ")*|\\[[a-fA-F0-9:]+\\])" + "(?::[0-9]+)?");
    private static final String PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
    private static final Pattern PATH = Pattern.compile(PATH_COMPONENT + "(?:/" + PATH_COMPONENT + ")*");
    private static final Pattern TAG = Pattern.compile("[\\w][\\w.-]{0,127}");
    private static final Pattern HEX64 = Pattern.compile("[a-f0-9]{64}");

    public ImageReference {
        Objects.requireNonNull(domain, "domain");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(tag, "tag");
        Objects.requireNonNull(digest, "digest");
        if (!DOMAIN.matcher(domain).matches()) {
            throw new IllegalArgumentException("invalid registry host \"" + domain + "\"");
        }
        if (!PATH.matcher(path).matches()) {
            throw new IllegalArgumentException("invalid repository path \"" + path + "\""
                    + (path.equals(path.toLowerCase(java.util.Locale.ROOT)) ? "" : ": must be lowercase"));
        }
        if (domain.length() + 1 + path.length() > NAME_MAX) {
            throw new IllegalArgumentException(
                    "repository name \"" + domain + "/" + path + "\" is longer than " + NAME_MAX);
        }
        tag.ifPresent(t -> {
            if (!TAG.matcher(t).matches()) {
                throw new IllegalArgumentException("invalid tag \"" + t + "\"");
            }
        });
    }

    /**
     * Parses and normalises a reference as {@code docker pull} / {@code crictl pull} would.
     *
     * @throws IllegalArgumentException with the reason when {@code text} is not a valid reference
     *     (the image service maps it to INVALID_ARGUMENT)
     */
    public static ImageReference parse(String text) {
        Objects.requireNonNull(text, "reference");
        try {
            return parseStrict(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid image reference \"" + text + "\": " + e.getMessage(), e);
        }
    }

    private static ImageReference parseStrict(String s) {
        if (s.isEmpty()) {
            throw new IllegalArgumentException("empty reference");
        }
        if (HEX64.matcher(s).matches()) {
            throw new IllegalArgumentException("cannot specify 64-byte hexadecimal strings");
        }
        Optional<Digest> digest = Optional.empty();
        int at = s.indexOf('@');
        if (at >= 0) {
            digest = Optional.of(Digest.of(s.substring(at + 1)));
            s = s.substring(0, at);
        }
        String domain;
        String rest;
        int slash = s.indexOf('/');
        String first = slash < 0 ? "" : s.substring(0, slash);
        if (slash < 0
                || (!first.contains(".")
                        && !first.contains(":")
                        && !first.equals("localhost")
                        && first.equals(first.toLowerCase(java.util.Locale.ROOT)))) {
            domain = DOCKER_HUB;
            rest = s;
        } else {
            domain = first;
            rest = s.substring(slash + 1);
        }
        Optional<String> tag = Optional.empty();
        int colon = rest.lastIndexOf(':');
        if (colon >= 0) {
            tag = Optional.of(rest.substring(colon + 1));
            rest = rest.substring(0, colon);
        }
        if (rest.isEmpty()) {
            throw new IllegalArgumentException("empty repository name");
        }
        if (!rest.equals(rest.toLowerCase(java.util.Locale.ROOT))) {
            throw new IllegalArgumentException("repository name \"" + rest + "\" must be lowercase");
        }
        if (domain.equals(LEGACY_DOCKER_HUB)) {
            domain = DOCKER_HUB;
        }
        if (domain.equals(DOCKER_HUB) && !rest.contains("/")) {
            rest = OFFICIAL_PREFIX + rest;
        }
        if (tag.isEmpty() && digest.isEmpty()) {
            tag = Optional.of("latest");
        }
        return new ImageReference(domain, rest, tag, digest);
    }

    /** {@code domain/path}, e.g. {@code docker.io/library/busybox}. */
    public String repository() {
        return domain + "/" + path;
    }

    /**
     * The {@code repository@digest} form (the tag dropped), as CRI {@code repo_digests} and the
     * content-addressed pull use it.
     */
    public ImageReference withDigest(Digest d) {
        return new ImageReference(domain, path, Optional.empty(), Optional.of(d));
    }

    /** The same repository with {@code newTag} and no digest. */
    public ImageReference withTag(String newTag) {
        return new ImageReference(domain, path, Optional.of(newTag), Optional.empty());
    }

    /** What a manifest request names: the digest if there is one, else the tag. */
    public String manifestReference() {
        return digest.map(Digest::toString).orElseGet(() -> tag.orElse("latest"));
    }

    /**
     * The short repository name Docker prints: {@code busybox} for {@code
     * docker.io/library/busybox}, {@code user/app} for {@code docker.io/user/app}; other registries
     * keep their host.
     */
    public String familiarName() {
        if (!domain.equals(DOCKER_HUB)) {
            return repository();
        }
        if (path.startsWith(OFFICIAL_PREFIX) && path.indexOf('/', OFFICIAL_PREFIX.length()) < 0) {
            return path.substring(OFFICIAL_PREFIX.length());
        }
        return path;
    }

    /** {@link #familiarName()} with the tag and digest, e.g. {@code busybox:latest}. */
    public String familiarString() {
        return familiarName() + suffix();
    }

    /** The canonical form, {@code docker.io/library/busybox:latest}. */
    @Override
    public String toString() {
        return repository() + suffix();
    }

    private String suffix() {
        return tag.map(t -> ":" + t).orElse("") + digest.map(d -> "@" + d).orElse("");
    }
}

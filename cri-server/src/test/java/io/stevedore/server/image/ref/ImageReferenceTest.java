package io.stevedore.server.image.ref;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ImageReferenceTest {
    private static final String HEX = "a".repeat(64);
    private static final String D = "sha256:" + HEX;

    record Case(String input, String canonical, String domain, String path, String familiar) {
        @Override
        public String toString() {
            return input;
        }
    }

    static Stream<Case> valid() {
        return Stream.of(
                new Case("busybox", "docker.io/library/busybox:latest", "docker.io", "library/busybox", "busybox"),
                new Case("busybox:1.36", "docker.io/library/busybox:1.36", "docker.io", "library/busybox", "busybox"),
                new Case("user/app", "docker.io/user/app:latest", "docker.io", "user/app", "user/app"),
                new Case(
                        "docker.io/busybox",
                        "docker.io/library/busybox:latest",
                        "docker.io",
                        "library/busybox",
                        "busybox"),
                new Case("index.docker.io/user/app:v1", "docker.io/user/app:v1", "docker.io", "user/app", "user/app"),
                new Case(
                        "docker.io/library/busybox:latest",
                        "docker.io/library/busybox:latest",
                        "docker.io",
                        "library/busybox",
                        "busybox"),
                new Case("localhost/x", "localhost/x:latest", "localhost", "x", "localhost/x"),
                new Case("localhost:5000/x/y:t", "localhost:5000/x/y:t", "localhost:5000", "x/y", "localhost:5000/x/y"),
                new Case(
                        "127.0.0.1:5000/repo:tag",
                        "127.0.0.1:5000/repo:tag",
                        "127.0.0.1:5000",
                        "repo",
                        "127.0.0.1:5000/repo"),
                new Case(
                        "registry.k8s.io/pause:3.10",
                        "registry.k8s.io/pause:3.10",
                        "registry.k8s.io",
                        "pause",
                        "registry.k8s.io/pause"),
                new Case("quay.io/a/b/c:1", "quay.io/a/b/c:1", "quay.io", "a/b/c", "quay.io/a/b/c"),
                new Case("busybox@" + D, "docker.io/library/busybox@" + D, "docker.io", "library/busybox", "busybox"),
                new Case(
                        "busybox:1@" + D,
                        "docker.io/library/busybox:1@" + D,
                        "docker.io",
                        "library/busybox",
                        "busybox"),
                new Case("host:5000/repo@" + D, "host:5000/repo@" + D, "host:5000", "repo", "host:5000/repo"),
                new Case("[::1]:5000/repo", "[::1]:5000/repo:latest", "[::1]:5000", "repo", "[::1]:5000/repo"),
                new Case("Example.com/repo", "Example.com/repo:latest", "Example.com", "repo", "Example.com/repo"),
                new Case("a-b_c/e__f.g", "docker.io/a-b_c/e__f.g:latest", "docker.io", "a-b_c/e__f.g", "a-b_c/e__f.g"),
                new Case("foo:V_1.2-rc", "docker.io/library/foo:V_1.2-rc", "docker.io", "library/foo", "foo"),
                new Case(
                        "docker.io/library/a/b",
                        "docker.io/library/a/b:latest",
                        "docker.io",
                        "library/a/b",
                        "library/a/b"),
                new Case(
                        "busybox@sha512:" + "b".repeat(128),
                        "docker.io/library/busybox@sha512:" + "b".repeat(128),
                        "docker.io",
                        "library/busybox",
                        "busybox"));
    }

    @ParameterizedTest
    @MethodSource("valid")
    void parse_valid_normalises(Case c) {
        ImageReference r = ImageReference.parse(c.input());
        assertEquals(c.canonical(), r.toString());
        assertEquals(c.domain(), r.domain());
        assertEquals(c.path(), r.path());
        assertEquals(c.domain() + "/" + c.path(), r.repository());
        assertEquals(c.familiar(), r.familiarName());
        assertEquals(r, ImageReference.parse(r.toString()), "canonical form parses to itself");
    }

    record Invalid(String input, String reason) {
        @Override
        public String toString() {
            return input;
        }
    }

    static Stream<Invalid> invalid() {
        return Stream.of(
                new Invalid("", "empty"),
                new Invalid("Busybox", "lowercase"),
                new Invalid("user/App", "lowercase"),
                new Invalid("localhost:5000/Repo", "lowercase"),
                new Invalid("busybox@sha256:abc", "64"),
                new Invalid("busybox@md5:" + HEX, "unsupported algorithm"),
                new Invalid("busybox@sha256:" + "A".repeat(64), "lowercase hex"),
                new Invalid("busybox:", "invalid tag"),
                new Invalid("busybox:-x", "invalid tag"),
                new Invalid("busybox:" + "t".repeat(129), "invalid tag"),
                new Invalid(HEX, "64-byte hexadecimal"),
                new Invalid("a//b", "invalid repository path"),
                new Invalid("bad_host:x/repo", "invalid registry host"),
                new Invalid("repo..x", "invalid repository path"),
                new Invalid("quay.io/", "empty repository"),
                new Invalid("-lead", "invalid repository path"),
                new Invalid("a-b.c_d/e", "invalid registry host"));
    }

    @ParameterizedTest
    @MethodSource("invalid")
    void parse_invalid_throwsWithReason(Invalid c) {
        var e = assertThrows(IllegalArgumentException.class, () -> ImageReference.parse(c.input()));
        assertTrue(e.getMessage().contains(c.reason()), e.getMessage());
        assertTrue(e.getMessage().contains("invalid image reference"), e.getMessage());
    }

    @Test
    void withDigest_dropsTag_keepsRepository() {
        var r = ImageReference.parse("busybox:1.36").withDigest(Digest.of(D));
        assertEquals("docker.io/library/busybox@" + D, r.toString());
        assertEquals(Optional.empty(), r.tag());
        assertEquals(D, r.manifestReference());
    }

    @Test
    void manifestReference_prefersDigestOverTag() {
        assertEquals(D, ImageReference.parse("busybox:1@" + D).manifestReference());
        assertEquals("1", ImageReference.parse("busybox:1").manifestReference());
        assertEquals("busybox:1@" + D, ImageReference.parse("busybox:1@" + D).familiarString());
    }

    @Test
    void digest_of_validatesAndComputes() {
        assertEquals("sha256", Digest.of(D).algorithm());
        assertThrows(IllegalArgumentException.class, () -> Digest.of("sha256"));
        assertThrows(IllegalArgumentException.class, () -> Digest.of(":" + HEX));
        var d = Digest.sha256("hello".getBytes());
        assertEquals("sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", d.toString());
        assertTrue(d.matches("hello".getBytes()));
    }
}

package io.stevedore.server.image.registry;

import io.stevedore.server.image.manifest.Descriptor;
import io.stevedore.server.image.manifest.ManifestException;
import io.stevedore.server.image.manifest.Manifests;
import io.stevedore.server.image.manifest.MediaTypes;
import io.stevedore.server.image.ref.Digest;
import io.stevedore.server.image.ref.ImageReference;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.InstantSource;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Talks to OCI distribution registries: resolves references, fetches manifests and streams blobs,
 * over the endpoints {@link RegistryHosts} lists for the reference's host (mirrors first). An
 * endpoint that cannot be reached, answers 5xx or 429, or lacks the content (404) is skipped for
 * the next; another error stops there ({@link EndpointFallback}). Authentication follows the
 * registry's challenges (see {@link Authorizer}); redirects (blob storage) are followed by {@link
 * RegistryTransport} so that the Authorization header is never sent to another host. This class
 * checks what comes back: sizes, digests, media types.
 *
 * <p>Thread-safe; one instance serves the whole daemon. Close it to release connections.
 *
 * {@snippet :
 * var client = new RegistryClient(RegistryHosts.load(RegistryHosts.DEFAULT_DIR), RegistryClient.Options.defaults());
 * Resolved top = client.resolve(ImageReference.parse("busybox"), Credentials.anonymous());
 * try (InputStream layer = client.fetchBlob(top, someLayer, Credentials.anonymous())) {
 *   // stream into the content store, verifying the digest
 * }
 * }
 */
public final class RegistryClient implements AutoCloseable {
    /**
     * @param connectTimeout TCP (and TLS) connect timeout, unless hosts.toml sets {@code dial_timeout}
     * @param responseTimeout how long to wait for response headers
     * @param noProgressTimeout how long a body read may make no progress before it fails
     */
    public record Options(Duration connectTimeout, Duration responseTimeout, Duration noProgressTimeout) {
        public Options {
            Objects.requireNonNull(connectTimeout, "connectTimeout");
            Objects.requireNonNull(responseTimeout, "responseTimeout");
            Objects.requireNonNull(noProgressTimeout, "noProgressTimeout");
        }

        /** 30 s to connect, 60 s for headers, 5 min without body progress. */
        public static Options defaults() {
            return new Options(Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofMinutes(5));
        }
    }

    private final EndpointFallback endpoints;
    private final RegistryTransport transport;

    public RegistryClient(RegistryHosts hosts, Options options) {
        this(hosts, options, InstantSource.system());
    }

    /** {@link Options#defaults()} with {@code noProgressTimeout} for bodies. */
    public RegistryClient(RegistryHosts hosts, Duration noProgressTimeout) {
        this(
                hosts,
                new Options(
                        Options.defaults().connectTimeout(), Options.defaults().responseTimeout(), noProgressTimeout));
    }

    RegistryClient(RegistryHosts hosts, Options options, InstantSource clock) {
        this.endpoints = new EndpointFallback(hosts);
        this.transport = new RegistryTransport(options, clock);
    }

    /**
     * Fetches the manifest or index {@code ref} names from the first endpoint with the {@code
     * resolve} capability that has it.
     *
     * @throws RegistryException when no endpoint could serve it, the body is over {@link
     *     Manifests#MAX_SIZE}, is not a supported manifest type, or does not match the reference's
     *     digest or the registry's {@code Docker-Content-Digest}
     */
    public Resolved resolve(ImageReference ref, Credentials creds) throws RegistryException, InterruptedException {
        String action = "resolve " + ref;
        return endpoints.each(action, ref, Capability.RESOLVE, ep -> {
            URI uri = ep.resolve(ref.path() + "/manifests/" + ref.manifestReference());
            try (var r = transport.get(ep, ref, uri, accept(null), creds)) {
                byte[] body = r.readLimited(Manifests.MAX_SIZE, "manifest");
                Digest want = ref.digest().orElse(null);
                Digest got = Digest.compute(want == null ? "sha256" : want.algorithm(), body);
                if (want != null && !want.equals(got)) {
                    throw new EndpointFailure(
                            "digest mismatch: the reference names " + want + " but the content is " + got, 0, true);
                }
                checkHeaderDigest(r.response, got);
                String type;
                try {
                    type = Manifests.parse(
                                    r.response
                                            .headers()
                                            .firstValue("Content-Type")
                                            .orElse(""),
                                    body)
                            .mediaType();
                } catch (ManifestException e) {
                    throw new EndpointFailure(e.getMessage(), 0, false);
                }
                return new Resolved(ref, ep, Descriptor.of(type, got, body.length), body);
            }
        });
    }

    /**
     * Fetches a manifest by digest from the repository {@code from} was resolved in, e.g. the
     * platform's entry of an index; checks size (at most {@link Manifests#MAX_SIZE}) and digest.
     */
    public byte[] fetchManifest(Resolved from, Descriptor desc, Credentials creds)
            throws RegistryException, InterruptedException {
        ImageReference ref = from.reference();
        String action = "fetch manifest " + desc.digest() + " of " + ref.repository();
        if (desc.size() > Manifests.MAX_SIZE) {
            throw new RegistryException(
                    action + ": manifest is " + desc.size() + " bytes, more than the " + Manifests.MAX_SIZE
                            + " byte limit",
                    0,
                    false,
                    null);
        }
        return endpoints.each(action, ref, Capability.PULL, ep -> {
            URI uri = ep.resolve(ref.path() + "/manifests/" + desc.digest());
            try (var r = transport.get(ep, ref, uri, accept(desc.mediaType()), creds)) {
                byte[] body = r.readLimited(Manifests.MAX_SIZE, "manifest");
                if (body.length != desc.size()) {
                    throw new EndpointFailure(
                            "size mismatch: want " + desc.size() + " bytes, got " + body.length, 0, true);
                }
                if (!desc.digest().matches(body)) {
                    throw new EndpointFailure(
                            "digest mismatch: content is "
                                    + Digest.compute(desc.digest().algorithm(), body),
                            0,
                            true);
                }
                return body;
            }
        });
    }

    /** {@link #fetchBlob(ImageReference, Descriptor, Credentials)} in the repository of {@code from}. */
    public InputStream fetchBlob(Resolved from, Descriptor desc, Credentials creds)
            throws RegistryException, InterruptedException {
        return fetchBlob(from.reference(), desc, creds);
    }

    /**
     * Opens a blob of {@code ref}'s repository for streaming from the first endpoint with the {@code
     * pull} capability that has it. A {@code Content-Length} that differs from {@code desc.size()}
     * is refused; verifying the digest while reading is the caller's job. A read that makes no
     * progress for {@link Options#noProgressTimeout()} fails with an {@link IOException}. The caller
     * must close the stream.
     */
    public InputStream fetchBlob(ImageReference ref, Descriptor desc, Credentials creds)
            throws RegistryException, InterruptedException {
        String action = "fetch blob " + desc.digest();
        return endpoints.each(action, ref, Capability.PULL, ep -> {
            URI uri = ep.resolve(ref.path() + "/blobs/" + desc.digest());
            var r = transport.get(ep, ref, uri, null, creds);
            OptionalLong length = r.response.headers().firstValueAsLong("Content-Length");
            if (length.isPresent() && length.getAsLong() != desc.size()) {
                r.close();
                throw new EndpointFailure(
                        "Content-Length " + length.getAsLong() + " but the descriptor says " + desc.size(), 0, true);
            }
            return r.body;
        });
    }

    @Override
    public void close() {
        transport.close();
    }

    private static void checkHeaderDigest(HttpResponse<?> r, Digest got) throws EndpointFailure {
        Optional<String> header = r.headers().firstValue("Docker-Content-Digest");
        if (header.isEmpty()) {
            return;
        }
        Digest claimed;
        try {
            claimed = Digest.of(header.get().trim());
        } catch (IllegalArgumentException e) {
            return; // an unusable header is ignored; our own digest of the body is what counts
        }
        if (claimed.algorithm().equals(got.algorithm()) && !claimed.equals(got)) {
            throw new EndpointFailure(
                    "digest mismatch: Docker-Content-Digest says " + claimed + " but the content is " + got, 0, true);
        }
    }

    private static String accept(String first) {
        Set<String> types = new LinkedHashSet<>();
        if (first != null) {
            types.add(first);
        }
        types.addAll(MediaTypes.MANIFEST_TYPES);
        return String.join(", ", types);
    }
}

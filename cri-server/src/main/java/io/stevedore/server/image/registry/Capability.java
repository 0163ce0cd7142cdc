package io.stevedore.server.image.registry;

/** What a registry endpoint may be used for ({@code capabilities} in hosts.toml). */
public enum Capability {
    /** Fetch manifests and blobs by digest. */
    PULL,
    /** Turn a tag into a digest; trust a mirror with this only if it cannot serve stale tags. */
    RESOLVE,
    /** Upload; parsed for compatibility, unused by a CRI runtime. */
    PUSH,
    /** The OCI referrers API; parsed for compatibility, unused. */
    REFERRERS
}

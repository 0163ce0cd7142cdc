package io.stevedore.server.image.registry;

import io.stevedore.server.image.ref.ImageReference;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Tries a request on each endpoint {@link RegistryHosts} lists for a reference's host, mirrors
 * first, until one serves it or fails in a way the next could not mend ({@link
 * EndpointFailure#fallback}). Remembers hosts whose https failed and whose http worked, so that
 * later requests go straight to http.
 *
 * <p>Thread-safe.
 */
final class EndpointFallback {
    @FunctionalInterface
    interface EndpointCall<T> {
        T call(RegistryEndpoint ep) throws EndpointFailure, InterruptedException;
    }

    private final RegistryHosts hosts;
    /**
     * Hosts listed over https and then http (loopback defaults) whose https failed and http worked:
     * later requests go straight to http, like containerd's {@code HTTPFallback}.
     */
    private final Set<String> plainHttpHosts = ConcurrentHashMap.newKeySet();

    EndpointFallback(RegistryHosts hosts) {
        this.hosts = Objects.requireNonNull(hosts, "hosts");
    }

    /**
     * {@code call} on each endpoint of {@code ref}'s host with capability {@code need}, in order.
     *
     * @throws RegistryException naming {@code action} and every endpoint's failure; not-found when
     *     every endpoint tried answered 404
     */
    <T> T each(String action, ImageReference ref, Capability need, EndpointCall<T> call)
            throws RegistryException, InterruptedException {
        List<RegistryEndpoint> all =
                hosts.hostsFor(ref.domain()).stream().filter(e -> e.has(need)).toList();
        List<RegistryEndpoint> eps = all.stream()
                .filter(e -> !(isHttps(e) && plainHttpHosts.contains(e.host()) && hasHttpTwin(all, e)))
                .toList();
        if (eps.isEmpty()) {
            throw new RegistryException(
                    action + ": no endpoint for " + ref.domain() + " has the "
                            + need.name().toLowerCase(Locale.ROOT) + " capability",
                    0,
                    false,
                    null);
        }
        List<String> failures = new ArrayList<>();
        boolean allNotFound = true;
        int status = 0;
        EndpointFailure last = null;
        Set<String> httpsUnreachable = new HashSet<>();
        for (RegistryEndpoint ep : eps) {
            try {
                T result = call.call(ep);
                if (!isHttps(ep) && httpsUnreachable.contains(ep.host())) {
                    plainHttpHosts.add(ep.host());
                }
                return result;
            } catch (EndpointFailure f) {
                if (isHttps(ep) && f.status == 0) {
                    httpsUnreachable.add(ep.host());
                }
                failures.add(ep.origin() + ": " + f.getMessage());
                allNotFound &= f.status == 404;
                status = f.status;
                last = f;
                if (!f.fallback) {
                    break;
                }
            }
        }
        String msg = failures.size() == 1 && eps.size() == 1
                ? action + " from " + failures.getFirst()
                : action + ": " + String.join("; ", failures);
        throw new RegistryException(msg, status, allNotFound, last);
    }

    private static boolean isHttps(RegistryEndpoint e) {
        return e.base().getScheme().equals("https");
    }

    private static boolean hasHttpTwin(List<RegistryEndpoint> eps, RegistryEndpoint https) {
        return eps.stream().anyMatch(e -> !isHttps(e) && e.host().equals(https.host()));
    }
}

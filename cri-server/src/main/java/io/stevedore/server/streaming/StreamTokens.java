package io.stevedore.server.streaming;

import io.stevedore.server.error.CriException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Pending streaming requests by token, as the kubelet's streaming server keeps them: Exec, Attach
 * and PortForward store their validated request here and answer with a URL naming the token; the
 * client's HTTP request takes it out again. A token is 128 bits from a CSPRNG, used at most once,
 * and forgotten after {@link #TTL} if unused. At most {@code capacity} are pending at once: the
 * next request is refused with RESOURCE_EXHAUSTED rather than letting a caller who never connects
 * grow the daemon's heap.
 *
 * <p>Thread-safe.
 */
public final class StreamTokens {
    /** How long an unused token stays valid (the kubelet's cache TTL). */
    public static final Duration TTL = Duration.ofMinutes(1);

    /** What a token stands for: the request that was validated, and when it stops being valid. */
    private record Pending(Object request, Instant expires) {}

    private final SecureRandom random = new SecureRandom();
    private final InstantSource clock;
    private final int capacity;
    // guarded by this; insertion order is expiry order (every entry gets the same TTL)
    private final LinkedHashMap<String, Pending> pending = new LinkedHashMap<>();

    public StreamTokens(InstantSource clock, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1");
        }
        this.clock = clock;
        this.capacity = capacity;
    }

    /** Stores {@code request} and returns its new token (URL-safe). */
    public synchronized String put(Object request) {
        Instant now = clock.instant();
        evictExpired(now);
        if (pending.size() >= capacity) {
            throw new CriException.ResourceExhausted(
                    "too many pending streaming requests (" + capacity + "): connect to the URLs already handed out");
        }
        byte[] b = new byte[16];
        random.nextBytes(b);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(b);
        pending.put(token, new Pending(request, now.plus(TTL)));
        return token;
    }

    /** Takes the request a token stands for: empty if it is unknown, used or expired. */
    public synchronized Optional<Object> take(String token) {
        Instant now = clock.instant();
        evictExpired(now);
        Pending p = pending.remove(token);
        return p == null ? Optional.empty() : Optional.of(p.request());
    }

    /** How many tokens are pending now. */
    public synchronized int size() {
        evictExpired(clock.instant());
        return pending.size();
    }

    private void evictExpired(Instant now) {
        Iterator<Map.Entry<String, Pending>> it = pending.entrySet().iterator();
        while (it.hasNext()) {
            if (it.next().getValue().expires().isAfter(now)) {
                return;
            }
            it.remove();
        }
    }
}

package io.stevedore.server.streaming;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.server.error.CriException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashSet;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class StreamTokensTest {
    private Instant now = Instant.parse("2026-12-03T12:00:00Z");
    private final InstantSource clock = () -> now;

    @Test
    void take_onceOnly() {
        var t = new StreamTokens(clock, 10);
        String token = t.put("req");
        assertEquals(Optional.of("req"), t.take(token));
        assertEquals(Optional.empty(), t.take(token), "a token is single-use");
    }

    @Test
    void take_unknownOrForged_isEmpty() {
        var t = new StreamTokens(clock, 10);
        String token = t.put("req");
        assertEquals(Optional.empty(), t.take("AAAAAAAAAAAAAAAAAAAAAA"));
        assertEquals(Optional.empty(), t.take(token.substring(1)));
        assertEquals(1, t.size());
    }

    @Test
    void take_afterTtl_isEmpty() {
        var t = new StreamTokens(clock, 10);
        String token = t.put("req");
        now = now.plus(StreamTokens.TTL).minusMillis(1);
        String fresh = t.put("other");
        now = now.plusMillis(1);
        assertEquals(Optional.empty(), t.take(token), "expired after one minute");
        assertEquals(Optional.of("other"), t.take(fresh));
    }

    @Test
    void put_beyondCapacity_isResourceExhausted_untilOnesExpire() {
        var t = new StreamTokens(clock, 3);
        t.put(1);
        t.put(2);
        t.put(3);
        assertThrows(CriException.ResourceExhausted.class, () -> t.put(4));
        now = now.plus(Duration.ofMinutes(2));
        t.put(5);
        assertEquals(1, t.size());
    }

    @Test
    void put_tokensAreUrlSafeAndDistinct() {
        var t = new StreamTokens(clock, 1000);
        var seen = new HashSet<String>();
        for (int i = 0; i < 1000; i++) {
            String token = t.put(i);
            assertTrue(token.matches("[A-Za-z0-9_-]{22}"), token);
            seen.add(token);
        }
        assertEquals(1000, seen.size());
        assertNotEquals(new StreamTokens(clock, 1).put(0), new StreamTokens(clock, 1).put(0));
    }
}

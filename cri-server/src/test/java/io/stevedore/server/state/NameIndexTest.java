package io.stevedore.server.state;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

class NameIndexTest {
    private final NameIndex names = new NameIndex();

    @Test
    void reserve_freeName_succeedsAndRecordsTheHolder() {
        assertEquals(Optional.empty(), names.reserve("web_pod_ns_uid_0", "id1"));
        assertEquals(Optional.of("id1"), names.get("web_pod_ns_uid_0"));
    }

    @Test
    void reserve_sameNameSameId_isIdempotent() {
        names.reserve("n", "id1");

        assertEquals(Optional.empty(), names.reserve("n", "id1"));
        assertEquals(Optional.of("id1"), names.get("n"));
    }

    @Test
    void reserve_nameHeldByAnotherId_returnsTheHolderAndKeepsIt() {
        names.reserve("n", "id1");

        assertEquals(Optional.of("id1"), names.reserve("n", "id2"));
        assertEquals(Optional.of("id1"), names.get("n"));
    }

    @Test
    void reserve_oneIdUnderTwoNames_isAllowed() {
        assertEquals(Optional.empty(), names.reserve("a", "id1"));
        assertEquals(Optional.empty(), names.reserve("b", "id1"));
    }

    @Test
    void release_byHolder_freesTheName() {
        names.reserve("n", "id1");

        names.release("n", "id1");

        assertEquals(Optional.empty(), names.get("n"));
        assertEquals(Optional.empty(), names.reserve("n", "id2"));
        assertEquals(Optional.of("id2"), names.get("n"));
    }

    @Test
    void release_byAnotherId_leavesTheReservation() {
        names.reserve("n", "id1");

        names.release("n", "id2");

        assertEquals(Optional.of("id1"), names.get("n"));
        assertEquals(Optional.of("id1"), names.reserve("n", "id2"));
    }

    @Test
    void release_unknownName_isANoOp() {
        names.release("never", "id1");

        assertEquals(Optional.empty(), names.get("never"));
    }

    @Test
    void reserve_concurrentCallersForOneName_exactlyOneWins() throws Exception {
        int n = 32;
        var go = new CountDownLatch(1);
        var winners = new ConcurrentLinkedQueue<String>();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            var futures = new ArrayList<java.util.concurrent.Future<?>>();
            for (int i = 0; i < n; i++) {
                String id = "id" + i;
                futures.add(pool.submit(() -> {
                    go.await();
                    if (names.reserve("n", id).isEmpty()) winners.add(id);
                    return null;
                }));
            }
            go.countDown();
            for (var f : futures) f.get();
        }

        assertEquals(1, winners.size(), winners.toString());
        assertEquals(Optional.of(winners.peek()), names.get("n"));
    }
}

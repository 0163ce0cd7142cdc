package io.stevedore.server.sandbox;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Holds a fake's call until the test opens it, and tells the test when a call has arrived: how a
 * test makes a step slow without sleeping.
 */
final class Gate {
    private final CountDownLatch arrived = new CountDownLatch(1);
    private final CountDownLatch open = new CountDownLatch(1);

    /** Called by the fake: signals arrival, then waits (at most a minute, so a broken test ends). */
    void pass() {
        arrived.countDown();
        try {
            if (!open.await(1, TimeUnit.MINUTES)) throw new IllegalStateException("gate never opened");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted at the gate", e);
        }
    }

    boolean arrived() {
        return arrived.getCount() == 0;
    }

    void open() {
        open.countDown();
    }
}

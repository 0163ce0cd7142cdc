package io.stevedore.oci.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Guards one owned descriptor so that {@link #close} can end threads blocked on it and never closes
 * the number under them.
 *
 * <p>Linux does not wake a thread blocked in {@code read(2)}, {@code accept(2)} or {@code poll(2)}
 * when another thread closes the descriptor: the call keeps its own reference to the open file, and
 * a tty stays blocked until data or a hang-up arrives. Worse, the freed number can be handed to the
 * next {@code open} anywhere in the JVM, so a read that retries after {@code EINTR} would read
 * someone else's file. So every blocking wait here is a {@code poll(2)} on the descriptor together
 * with an eventfd this gate owns; {@link #close} makes the eventfd readable, which wakes every
 * waiter, then waits for all callers between {@link #enter} and {@link #exit} to leave before it
 * closes the descriptor and the eventfd.
 *
 * <p>Callers bracket each use of {@link #fd} with {@code if (enter()) try { ... } finally { exit(); }}
 * and must not block in anything but {@link #await} meanwhile (the descriptor is non-blocking, so
 * the calls themselves return at once). Thread-safe.
 */
final class FdGate {
    /** {@link #await}: {@link #close} has begun. */
    static final int CLOSING = -1;
    /** {@link #await}: the deadline passed. */
    static final int TIMED_OUT = 0;

    private final int fd;
    private final int wakeFd;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition idle = lock.newCondition();
    private int users;
    private boolean closing;

    /** Takes ownership of {@code fd} only when this returns; on failure the caller still owns it. */
    FdGate(int fd) throws SyscallException {
        this.fd = fd;
        this.wakeFd = Libc.eventfd(Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
    }

    int fd() {
        return fd;
    }

    /** Registers a user of {@link #fd}; false once {@link #close} has begun (then do not touch it). */
    boolean enter() {
        lock.lock();
        try {
            if (closing) {
                return false;
            }
            users++;
            return true;
        } finally {
            lock.unlock();
        }
    }

    void exit() {
        lock.lock();
        try {
            if (--users == 0) {
                idle.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Callers between {@link #enter} and {@link #exit}; for tests. */
    int users() {
        lock.lock();
        try {
            return users;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits, between {@link #enter} and {@link #exit}, until {@code target} (this gate's descriptor or
     * another the caller owns) reports one of {@code events}, or an error or hang-up. Retries
     * {@code EINTR}.
     *
     * @param deadlineNanos a {@link System#nanoTime} deadline, or {@code Long.MAX_VALUE} for none
     * @return the target's {@code revents} (never 0), {@link #TIMED_OUT}, or {@link #CLOSING}
     */
    int await(int target, short events, long deadlineNanos) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(Libc.CAPTURED);
            MemorySegment fds = a.allocate(16, 8);
            for (; ; ) {
                int timeout = -1;
                if (deadlineNanos != Long.MAX_VALUE) {
                    long left = deadlineNanos - System.nanoTime();
                    if (left <= 0) {
                        return TIMED_OUT;
                    }
                    // Round up so a sub-millisecond remainder does not spin at timeout 0.
                    timeout = (int) Math.min(Integer.MAX_VALUE, (left + 999_999) / 1_000_000);
                }
                Libc.pollfd(fds, 0, target, events);
                Libc.pollfd(fds, 1, wakeFd, Libc.POLLIN);
                int r = Libc.rawPoll(state, fds, 2, timeout);
                if (r == -Errno.EINTR || r == 0) {
                    continue;
                }
                if (r < 0) {
                    throw new IllegalStateException("poll fd " + target + ": " + Errno.name(-r));
                }
                if (Libc.revents(fds, 1) != 0) {
                    return CLOSING;
                }
                short revents = Libc.revents(fds, 0);
                if (revents != 0) {
                    return revents;
                }
            }
        }
    }

    /**
     * Wakes every waiter, waits for every user to {@link #exit}, then closes the descriptor and the
     * eventfd. Returns false if an earlier call already began closing (without waiting for it).
     */
    boolean close() {
        lock.lock();
        try {
            if (closing) {
                return false;
            }
            closing = true;
            wake();
            while (users > 0) {
                idle.awaitUninterruptibly();
            }
            Libc.rawClose(fd);
            Libc.rawClose(wakeFd);
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void wake() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(Libc.CAPTURED);
            MemorySegment one = a.allocateFrom(ValueLayout.JAVA_LONG, 1L);
            long r = Libc.rawWrite(state, wakeFd, one, 8);
            // EAGAIN only if the counter is already near its maximum: still readable, waiters still wake.
            if (r < 0 && r != -Errno.EAGAIN) {
                throw new IllegalStateException("write eventfd: " + Errno.name((int) -r));
            }
        }
    }
}

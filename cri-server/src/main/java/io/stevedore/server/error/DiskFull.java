package io.stevedore.server.error;

import io.stevedore.oci.linux.Errno;
import io.stevedore.oci.linux.SyscallException;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Recognises a write that failed because its filesystem is full (ENOSPC) or its owner's quota is
 * used up (EDQUOT), wherever it sits in a chain of causes, so the edge can answer RESOURCE_EXHAUSTED
 * (gRPC's code for "a per-user quota, or perhaps the entire file system is out of space") instead of
 * an internal error: the caller did nothing wrong and the daemon has no bug; a retry once space is
 * freed succeeds.
 *
 * <p>The JDK reports both as a plain {@link IOException} whose message (a {@link
 * FileSystemException}'s reason) is the C library's {@code strerror} text, with no errno to look at:
 * that text is all there is. It is matched whole, never as a substring of a longer message, so a
 * registry's error body or a runtime's output that merely mentions the words is not taken for our
 * own disk. Our syscalls ({@link SyscallException}) carry the errno itself.
 */
public final class DiskFull {
    private static final String NO_SPACE = "No space left on device";
    private static final String QUOTA = "Disk quota exceeded";

    private DiskFull() {}

    /**
     * The reason, {@code "No space left on device"} or {@code "Disk quota exceeded"}, when {@code t}
     * or one of its causes is a write refused for want of space.
     */
    public static Optional<String> reason(Throwable t) {
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Throwable c = t; c != null && seen.add(c); c = c.getCause()) {
            Optional<String> r = ownReason(c);
            if (r.isPresent()) {
                return r;
            }
        }
        return Optional.empty();
    }

    public static boolean is(Throwable t) {
        return reason(t).isPresent();
    }

    /**
     * What a client is told: {@code t}'s message, which names the action and the file, followed by
     * the reason unless the message already says it.
     */
    public static String describe(Throwable t) {
        String message = String.valueOf(t.getMessage());
        return reason(t)
                .filter(r -> !message.toLowerCase(Locale.ROOT).contains(r.toLowerCase(Locale.ROOT)))
                .map(r -> message + ": " + r)
                .orElse(message);
    }

    private static Optional<String> ownReason(Throwable t) {
        return switch (t) {
            case SyscallException s when s.errno() == Errno.ENOSPC -> Optional.of(NO_SPACE);
            case SyscallException s when s.errno() == Errno.EDQUOT -> Optional.of(QUOTA);
            case SyscallException s -> Optional.empty();
            case FileSystemException f -> known(f.getReason());
            case IOException io -> known(io.getMessage());
            default -> Optional.empty();
        };
    }

    private static Optional<String> known(String text) {
        if (NO_SPACE.equals(text)) {
            return Optional.of(NO_SPACE);
        }
        return QUOTA.equals(text) ? Optional.of(QUOTA) : Optional.empty();
    }
}

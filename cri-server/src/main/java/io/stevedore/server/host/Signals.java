package io.stevedore.server.host;

import io.stevedore.cri.v1.Signal;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;

/** Signal names and numbers (x86-64 Linux). */
public final class Signals {
    public static final int SIGKILL = 9;
    public static final int SIGTERM = 15;

    private static final Map<String, Integer> BY_NAME = Map.ofEntries(
            Map.entry("SIGHUP", 1),
            Map.entry("SIGINT", 2),
            Map.entry("SIGQUIT", 3),
            Map.entry("SIGILL", 4),
            Map.entry("SIGTRAP", 5),
            Map.entry("SIGABRT", 6),
            Map.entry("SIGIOT", 6),
            Map.entry("SIGBUS", 7),
            Map.entry("SIGFPE", 8),
            Map.entry("SIGKILL", 9),
            Map.entry("SIGUSR1", 10),
            Map.entry("SIGSEGV", 11),
            Map.entry("SIGUSR2", 12),
            Map.entry("SIGPIPE", 13),
            Map.entry("SIGALRM", 14),
            Map.entry("SIGTERM", 15),
            Map.entry("SIGSTKFLT", 16),
            Map.entry("SIGCHLD", 17),
            Map.entry("SIGCONT", 18),
            Map.entry("SIGSTOP", 19),
            Map.entry("SIGTSTP", 20),
            Map.entry("SIGTTIN", 21),
            Map.entry("SIGTTOU", 22),
            Map.entry("SIGURG", 23),
            Map.entry("SIGXCPU", 24),
            Map.entry("SIGXFSZ", 25),
            Map.entry("SIGVTALRM", 26),
            Map.entry("SIGPROF", 27),
            Map.entry("SIGWINCH", 28),
            Map.entry("SIGIO", 29),
            Map.entry("SIGPOLL", 29),
            Map.entry("SIGPWR", 30),
            Map.entry("SIGSYS", 31),
            Map.entry("SIGRTMIN", 34),
            Map.entry("SIGRTMAX", 64),
            Map.entry("SIGCLD", 17));

    private Signals() {}

    /** {@code "SIGTERM"}, {@code "TERM"} or {@code "15"}; empty when unknown or blank. */
    public static OptionalInt parse(String s) {
        if (s == null || s.isBlank()) return OptionalInt.empty();
        String t = s.strip().toUpperCase(Locale.ROOT);
        if (t.matches("[0-9]{1,9}")) { // ASCII only, and short enough for parseInt
            int n = Integer.parseInt(t);
            return n > 0 && n <= 64 ? OptionalInt.of(n) : OptionalInt.empty();
        }
        String name = t.startsWith("SIG") ? t : "SIG" + t;
        Integer n = BY_NAME.get(name);
        if (n != null) return OptionalInt.of(n);
        // Real-time signals as the CRI enum names them: SIGRTMINPLUS<k> = 34+k, SIGRTMAXMINUS<k> = 64-k.
        var rt = java.util.regex.Pattern.compile("SIGRT(MINPLUS|MAXMINUS)([0-9]{1,2})")
                .matcher(name);
        if (rt.matches()) {
            int k = Integer.parseInt(rt.group(2));
            int sig = rt.group(1).equals("MINPLUS") ? 34 + k : 64 - k;
            if (k >= 1 && sig >= 34 && sig <= 64) return OptionalInt.of(sig);
        }
        return OptionalInt.empty();
    }

    /**
     * The stop signal: the CRI config's, else the image's, else SIGTERM (containerd's order).
     */
    public static int stopSignal(Signal cri, String image) {
        if (cri != Signal.RUNTIME_DEFAULT && cri != Signal.UNRECOGNIZED) {
            OptionalInt n = parse(cri.name());
            if (n.isPresent()) return n.getAsInt();
        }
        return parse(image).orElse(SIGTERM);
    }

    /** The CRI enum value for a signal number, RUNTIME_DEFAULT when it has none. */
    public static Signal toCri(int signal) {
        for (var e : BY_NAME.entrySet()) {
            if (e.getValue() == signal) {
                try {
                    return Signal.valueOf(e.getKey());
                } catch (IllegalArgumentException ignored) {
                    // a name the CRI enum spells differently
                }
            }
        }
        return Signal.RUNTIME_DEFAULT;
    }
}

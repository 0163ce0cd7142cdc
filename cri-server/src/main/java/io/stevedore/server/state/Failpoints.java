package io.stevedore.server.state;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Named points in the mutating paths at which a crash test makes the daemon die at once, as a
 * SIGKILL would: no shutdown hook, no flush, no cleanup (FoundationDB's and TiKV's failpoints; the
 * crash-consistency tests of issue 13 kill the daemon at each of these and check that the next
 * start converges).
 *
 * <p>Compiled in and off. They are armed only by the daemon's environment at start, {@code
 * STEVEDORE_FAILPOINTS=name[@n][,name[@n]…]} (or the system property {@code stevedore.failpoints}):
 * the daemon halts at the {@code n}th time (default the first) it passes {@code name}. Nothing on
 * the CRI socket can arm one. When none is armed, {@link #hit} is one read of a final field.
 *
 * <p>Every name is listed in {@link #ALL}, so a test can go through them one by one.
 */
public final class Failpoints {
    /** The exit status of a halt at a failpoint: what a shell reports for SIGKILL. */
    public static final int HALT_STATUS = 137;

    public static final String POD_AFTER_DIRS = "pod.run.after-dirs";
    public static final String POD_AFTER_PIN = "pod.run.after-pin";
    public static final String POD_AFTER_SHM = "pod.run.after-shm";
    public static final String POD_AFTER_FILES = "pod.run.after-files";
    public static final String POD_AFTER_CNI_ADD = "pod.run.after-cni-add";
    public static final String POD_AFTER_RECORD = "pod.run.after-record";
    public static final String POD_AFTER_PAUSE = "pod.pause.after-start";
    public static final String CTR_CREATE_AFTER_MOUNT = "container.create.after-mount";
    public static final String CTR_CREATE_AFTER_RECORD = "container.create.after-record";
    public static final String CTR_START_BEFORE_SHIM = "container.start.before-shim";
    public static final String CTR_START_AFTER_SHIM = "container.start.after-shim";
    public static final String CTR_START_AFTER_RUNTIME_START = "container.start.after-runtime-start";
    public static final String CTR_STOP_AFTER_SIGNAL = "container.stop.after-signal";
    public static final String CTR_REMOVE_AFTER_RUNTIME_DELETE = "container.remove.after-runtime-delete";
    public static final String CTR_REMOVE_AFTER_UNMOUNT = "container.remove.after-unmount";
    public static final String POD_STOP_AFTER_CONTAINERS = "pod.stop.after-containers";
    public static final String POD_STOP_AFTER_CNI_DEL = "pod.stop.after-cni-del";
    public static final String POD_REMOVE_AFTER_DIRS = "pod.remove.after-dirs";
    public static final String PULL_BEFORE_LAYER_COMMIT = "pull.before-layer-commit";
    public static final String PULL_AFTER_LAYER_COMMIT = "pull.after-layer-commit";
    public static final String PULL_BEFORE_RECORD = "pull.before-record";
    public static final String IMAGE_REMOVE_MID_GC = "image.remove.mid-gc";

    /** Every failpoint, in the order a pod's life passes them. */
    public static final List<String> ALL = List.of(
            POD_AFTER_DIRS,
            POD_AFTER_PIN,
            POD_AFTER_SHM,
            POD_AFTER_FILES,
            POD_AFTER_CNI_ADD,
            POD_AFTER_RECORD,
            POD_AFTER_PAUSE,
            CTR_CREATE_AFTER_MOUNT,
            CTR_CREATE_AFTER_RECORD,
            CTR_START_BEFORE_SHIM,
            CTR_START_AFTER_SHIM,
            CTR_START_AFTER_RUNTIME_START,
            CTR_STOP_AFTER_SIGNAL,
            CTR_REMOVE_AFTER_RUNTIME_DELETE,
            CTR_REMOVE_AFTER_UNMOUNT,
            POD_STOP_AFTER_CONTAINERS,
            POD_STOP_AFTER_CNI_DEL,
            POD_REMOVE_AFTER_DIRS,
            PULL_BEFORE_LAYER_COMMIT,
            PULL_AFTER_LAYER_COMMIT,
            PULL_BEFORE_RECORD,
            IMAGE_REMOVE_MID_GC);

    private static final String SPEC =
            System.getProperty("stevedore.failpoints", System.getenv("STEVEDORE_FAILPOINTS"));
    private static final Map<String, AtomicInteger> ARMED = armedAtStart();

    private Failpoints() {}

    /**
     * The failpoints armed in this daemon, in the order given.
     *
     * @throws IllegalArgumentException when an armed name is unknown (the daemon must not start)
     */
    public static List<String> armed() {
        parse(SPEC);
        return List.copyOf(ARMED.keySet());
    }

    /** Passes the failpoint {@code name}: halts the daemon if it is armed and its count is reached. */
    public static void hit(String name) {
        if (ARMED.isEmpty()) return;
        AtomicInteger left = ARMED.get(name);
        if (left != null && left.decrementAndGet() == 0) {
            System.err.println("stevedore: failpoint " + name + ": halting");
            System.err.flush();
            Runtime.getRuntime().halt(HALT_STATUS);
        }
    }

    /** An unknown name arms nothing here; {@link #armed} reports it, so the daemon refuses to start. */
    private static Map<String, AtomicInteger> armedAtStart() {
        try {
            return parse(SPEC);
        } catch (IllegalArgumentException e) {
            return Map.of();
        }
    }

    /**
     * {@code name[@n],…}; an unknown name is refused, so a test cannot arm a point that is never
     * passed and pass for a crash test.
     */
    static Map<String, AtomicInteger> parse(String spec) {
        Map<String, AtomicInteger> armed = new LinkedHashMap<>();
        if (spec == null || spec.isBlank()) return Map.of();
        for (String item : spec.split(",")) {
            String s = item.strip();
            int at = s.indexOf('@');
            String name = at < 0 ? s : s.substring(0, at);
            int n = at < 0 ? 1 : Integer.parseInt(s.substring(at + 1));
            if (!ALL.contains(name) || n < 1) {
                throw new IllegalArgumentException("STEVEDORE_FAILPOINTS: unknown failpoint \"" + s + "\"");
            }
            armed.put(name, new AtomicInteger(n));
        }
        return java.util.Collections.unmodifiableMap(armed);
    }
}

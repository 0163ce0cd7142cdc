package io.stevedore.server.sandbox;

import io.stevedore.oci.linux.Syscalls;
import io.stevedore.server.error.CriException;
import io.stevedore.server.host.Procs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code stevedore-pause} as PID 1 of a pod's shared PID namespace, started without an OCI runtime:
 * {@code stevedore-pause --spawn} joins the pod's pinned namespaces, unshares a PID namespace and
 * forks the pause into it, chrooted into an empty directory, as uid 65535 with no capabilities.
 * One fork and one exec instead of a runc container (a shim, {@code runc create} and
 * {@code runc start}: tens of milliseconds). The pause is reparented to the daemon, a child
 * subreaper, and put in the cgroup {@code <pod cgroup parent>/<sandbox id>}, where containerd
 * puts its pause container.
 */
final class ExecPauseLauncher implements PauseLauncher {
    /** The pause's command name, as {@code /proc/<pid>/comm} shows it (it names itself so). */
    private static final String COMM = "pause";

    private final Path binary;
    private final Path emptyRoot;
    private final PodCgroups cgroups;
    private final Syscalls sys;

    ExecPauseLauncher(Path binary, Path emptyRoot, PodCgroups cgroups, Syscalls sys) {
        this.binary = binary;
        this.emptyRoot = emptyRoot;
        this.cgroups = cgroups;
        this.sys = sys;
    }

    private static String cgroup(SandboxMetadata sb) {
        return sb.cgroupParent() + "/" + sb.id();
    }

    @Override
    public Started start(SandboxMetadata sb) {
        try {
            return spawn(sb);
        } catch (IOException e) {
            throw new UncheckedIOException("start pause of sandbox \"" + sb.id() + "\": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CriException.Unavailable("start pause of sandbox \"" + sb.id() + "\": interrupted", e);
        }
    }

    @Override
    public boolean isRunning(Started pause) {
        return Procs.alive(pause.pid(), pause.startTime());
    }

    /**
     * {@inheritDoc} Found by what only this daemon's pauses share: the command name and the root
     * they are chrooted into ({@code <run_root>/pause-root}), so another daemon's are never taken.
     */
    @Override
    public List<Started> running() {
        var found = new ArrayList<Started>();
        try (var procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : procs) {
                if (isOurs(p)) {
                    int pid = Integer.parseInt(p.getFileName().toString());
                    long start = Procs.startTime(pid);
                    if (Procs.alive(pid, start)) found.add(new Started(pid, start));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("list pause processes: " + e.getMessage(), e);
        }
        return found;
    }

    private boolean isOurs(Path proc) {
        try {
            return Files.readString(proc.resolve("comm")).strip().equals(COMM)
                    && Files.readSymbolicLink(proc.resolve("root")).equals(emptyRoot);
        } catch (IOException e) {
            return false; // gone, or a kernel thread
        }
    }

    @Override
    public void killStray(Started pause) {
        String cgroup = cgroupOf(pause.pid());
        try {
            kill(pause, cgroup);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CriException.Unavailable("stop a stray pause (pid " + pause.pid() + "): interrupted", e);
        }
    }

    /**
     * The pod cgroup a pause was moved into ({@code <parent>/<sandbox id>}), or empty when it was
     * moved into none. A pause killed half-way through its join is in the pod cgroup in some
     * hierarchies only, and still in the daemon's in the others: only a path ending in a sandbox id
     * is taken, so the daemon's own cgroup is never mistaken for it.
     */
    static String cgroupOf(int pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "cgroup"))) {
                String path = line.substring(line.indexOf(':', line.indexOf(':') + 1) + 1);
                if (path.substring(path.lastIndexOf('/') + 1).matches("[0-9a-f]{64}")) return path;
            }
        } catch (IOException | IndexOutOfBoundsException e) {
            // gone
        }
        return "";
    }

    private Started spawn(SandboxMetadata sb) throws IOException, InterruptedException {
        if (!Files.isDirectory(emptyRoot)) {
            Files.createDirectories(emptyRoot);
            Files.setPosixFilePermissions(emptyRoot, PosixFilePermissions.fromString("r-xr-xr-x"));
        }
        List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--spawn", "--root", emptyRoot.toString()));
        if (!sb.netns().isEmpty()) cmd.addAll(List.of("--net", sb.netns()));
        if (!sb.ipcns().isEmpty()) cmd.addAll(List.of("--ipc", sb.ipcns()));
        if (!sb.utsns().isEmpty()) cmd.addAll(List.of("--uts", sb.utsns()));
        Process p = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .start();
        // It prints one line at most on either stream (the pipes never fill): wait first, so the
        // timeout holds even if the launcher hangs.
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("stevedore-pause --spawn did not exit");
        }
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        if (p.exitValue() != 0) {
            String msg = new String(err, StandardCharsets.UTF_8).strip();
            throw new IOException(msg.isEmpty() ? "stevedore-pause --spawn exited " + p.exitValue() : msg);
        }
        int pid;
        try {
            pid = Integer.parseInt(new String(out, StandardCharsets.US_ASCII).strip());
        } catch (NumberFormatException e) {
            throw new IOException("stevedore-pause --spawn printed no pid", e);
        }
        var started = new Started(pid, Procs.startTime(pid));
        try {
            cgroups.join(cgroup(sb), pid);
        } catch (IOException | RuntimeException e) {
            try {
                kill(sb, started);
            } catch (InterruptedException | RuntimeException k) {
                if (k instanceof InterruptedException) Thread.currentThread().interrupt();
                e.addSuppressed(k);
            }
            throw e;
        }
        return started;
    }

    /** {@inheritDoc} Its cgroup is removed too. */
    @Override
    public void stop(SandboxMetadata sb, Started pause) {
        try {
            kill(sb, pause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CriException.Unavailable("stop pause of sandbox \"" + sb.id() + "\": interrupted", e);
        }
    }

    private void kill(SandboxMetadata sb, Started pause) throws InterruptedException {
        kill(pause, cgroup(sb));
    }

    private void kill(Started pause, String cgroup) throws InterruptedException {
        if (Procs.alive(pause.pid(), pause.startTime())) {
            ProcessHandle.of(pause.pid()).ifPresent(ProcessHandle::destroyForcibly);
        }
        // PID 1 of a namespace turns zombie only once every other process in it has been reaped.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!sys.reap(pause.pid()) && Procs.alive(pause.pid(), pause.startTime()) && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        sys.reap(pause.pid()); // our zombie (adopted), if it became one between the checks
        if (!cgroup.isEmpty()) cgroups.remove(cgroup);
    }
}

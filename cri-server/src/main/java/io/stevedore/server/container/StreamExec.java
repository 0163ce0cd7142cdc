package io.stevedore.server.container;

import io.stevedore.oci.linux.ConsoleSocket;
import io.stevedore.oci.linux.PtyMaster;
import io.stevedore.oci.runtime.ContainerIo;
import io.stevedore.oci.runtime.OciRuntimeException;
import io.stevedore.oci.spec.Process;
import io.stevedore.oci.spec.SpecJson;
import io.stevedore.server.state.Dirs;
import io.stevedore.server.streaming.CommandIo;
import io.stevedore.server.streaming.TerminalSizes;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A streaming exec through the OCI runtime, the way containerd runs one:
 *
 * <ul>
 *   <li>without a terminal, {@code runc exec} in the foreground with the process's stdio as three
 *       pipes, copied to and from the client; its exit status is the process's;
 *   <li>with a terminal, {@code runc exec --detach} with a console socket: the runtime hands us the
 *       pty master, the process is adopted by the daemon (a child subreaper) when runc exits, and we
 *       wait for it through a pidfd.
 * </ul>
 *
 * <p>When the client goes away first, the process and everything it started are SIGKILLed (a
 * terminal's hang-up alone does not reach a process that ignores SIGHUP), so neither a process nor
 * a runc nor a pipe outlives the session. Output still in flight when the process exits is copied
 * for at most {@link #DRAIN_MS}: a background child keeping the pipes or the terminal open cannot
 * hold the session.
 */
final class StreamExec {
    private static final Logger log = LoggerFactory.getLogger(StreamExec.class);
    private static final long DRAIN_MS = 2000;
    /** How long a terminal exec waits for the client's first size before starting without one. */
    private static final long FIRST_SIZE_MS = 500;

    private static final int CHUNK = 32 << 10;
    private static final int SIGKILL = 9;
    /**
     * Threads for blocking reads and writes of pipes and the pty, and for waitid: platform threads
     * with small stacks. On a virtual thread each such call would hold a carrier (a pipe read is
     * only compensated up to the scheduler's limit, a native call not at all), and enough open
     * sessions would then stall every virtual thread in the daemon, gRPC calls included.
     */
    private static Thread.Builder.OfPlatform ioThread(String name) {
        return Thread.ofPlatform().daemon().stackSize(256 << 10).name(name); // builders are not thread-safe: one each
    }

    private StreamExec() {}

    static int pipes(StreamTarget t, Process process, CommandIo io) throws Exception {
        String tag = Dirs.newId().substring(0, 16);
        Path processJson = t.bundle().resolve("exec-" + tag + ".json");
        Path pidFile = t.bundle().resolve("exec-" + tag + ".pid");
        java.lang.Process p = null;
        try {
            writeProcess(process, processJson);
            p = t.runtime().exec(t.id(), processJson, pidFile, Optional.empty());
            java.lang.Process runc = p;
            io.gone().thenRun(() -> {
                ExecSync.killTree(pidFile);
                runc.destroyForcibly();
            });
            if (io.stdin() != null) {
                ioThread("exec-stdin").start(() -> copyStdin(io.stdin(), runc.getOutputStream()));
            } else {
                runc.getOutputStream().close();
            }
            Thread out = copier("exec-stdout", p.getInputStream(), io.stdout());
            Thread err = copier("exec-stderr", p.getErrorStream(), io.stderr());
            int code = p.waitFor();
            drain(out, p.getInputStream());
            drain(err, p.getErrorStream());
            return code;
        } finally {
            if (p != null && p.isAlive()) {
                ExecSync.killTree(pidFile);
                p.destroyForcibly();
            }
            deleteQuietly(processJson);
            deleteQuietly(pidFile);
        }
    }

    static int terminal(StreamTarget t, Process process, CommandIo io) throws Exception {
        String tag = Dirs.newId().substring(0, 16);
        Path processJson = t.bundle().resolve("exec-" + tag + ".json");
        Path pidFile = t.bundle().resolve("exec-" + tag + ".pid");
        // In the shim's short directory: a socket path must fit in 108 bytes.
        Path consolePath = t.shimDir().resolve("x-" + tag.substring(0, 8) + ".sock");
        PtyMaster master;
        int pidfd;
        int pid;
        try {
            // Clients send the terminal's size right after the streams exist: start the process with it,
            // so that its first look at the terminal (a shell's prompt, stty size) sees the right size.
            Optional<TerminalSizes.Size> first =
                    io.resize() == null ? Optional.empty() : io.resize().poll(FIRST_SIZE_MS);
            if (first.isPresent() && first.get().width() > 0 && first.get().height() > 0) {
                process = process.withConsoleSize(new Process.ConsoleSize(
                        first.get().height(), first.get().width()));
            }
            writeProcess(process, processJson);
            try (ConsoleSocket console = ConsoleSocket.bind(consolePath)) {
                t.runtime().execDetached(t.id(), processJson, pidFile, Optional.of(consolePath), ContainerIo.none());
                master = new PtyMaster(console.receiveMaster(Duration.ofSeconds(10)));
            } catch (TimeoutException e) {
                throw new IllegalStateException(
                        "exec in container \"" + t.id() + "\": the runtime sent no terminal", e);
            } catch (OciRuntimeException e) {
                throw new IllegalStateException("exec in container \"" + t.id() + "\": " + e.getMessage(), e);
            }
            pid = Integer.parseInt(Files.readString(pidFile).strip());
            pidfd = t.sys().pidfdOpen(pid);
        } finally {
            deleteQuietly(processJson);
            deleteQuietly(pidFile);
        }
        if (pidfd < 0) {
            master.close();
            throw new IllegalStateException("exec in container \"" + t.id() + "\": process " + pid + " vanished");
        }
        var reaped = new java.util.concurrent.atomic.AtomicBoolean();
        try {
            io.gone().thenRun(() -> {
                synchronized (reaped) {
                    if (!reaped.get()) {
                        killTree(t, pid, pidfd);
                    }
                }
            });
            if (io.resize() != null) {
                Thread.ofVirtual().name("exec-resize").start(() -> resize(master, io.resize()));
            }
            // Blocking native reads and writes of the pty: platform threads, never a virtual one.
            Thread reader = ioThread("exec-tty-out").start(() -> {
                byte[] b = new byte[CHUNK];
                try {
                    int n;
                    while ((n = master.read(b, 0, b.length)) >= 0) {
                        if (io.stdout() != null) {
                            io.stdout().write(b, 0, n);
                        }
                    }
                } catch (IOException e) {
                    // client gone, or the master closed under us
                }
            });
            if (io.stdin() != null) {
                ioThread("exec-tty-in").start(() -> {
                    byte[] b = new byte[CHUNK];
                    try {
                        int n;
                        while ((n = io.stdin().read(b)) >= 0) {
                            master.write(b, 0, n);
                        }
                    } catch (IOException e) {
                        // client gone or process gone
                    }
                });
            }
            var exit = new int[] {-1};
            Thread waiter = ioThread("exec-wait").start(() -> {
                try {
                    exit[0] = t.sys().waitExit(pidfd);
                } catch (IOException e) {
                    log.atWarn()
                            .addKeyValue("containerId", t.id())
                            .log("waiting for exec process {}: {}", pid, e.getMessage());
                }
            });
            waiter.join();
            reader.join(Duration.ofMillis(DRAIN_MS)); // the slave closes with the last process holding it
            return exit[0];
        } finally {
            master.close();
            synchronized (reaped) {
                reaped.set(true); // no kill through a descriptor number that may be reused from now on
                t.sys().close(pidfd);
            }
        }
    }

    private static void resize(PtyMaster master, TerminalSizes sizes) {
        try {
            Optional<TerminalSizes.Size> s;
            while ((s = sizes.next()).isPresent()) {
                master.resize(s.get().height(), s.get().width());
            }
        } catch (IOException e) {
            // the terminal is gone
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void copyStdin(InputStream from, OutputStream to) {
        byte[] b = new byte[CHUNK];
        try (to) {
            int n;
            while ((n = from.read(b)) >= 0) {
                to.write(b, 0, n);
                to.flush();
            }
        } catch (IOException e) {
            // the client left, or the process closed its stdin
        }
    }

    private static Thread copier(String name, InputStream from, OutputStream to) {
        return ioThread(name).start(() -> {
            byte[] b = new byte[CHUNK];
            try {
                int n;
                while ((n = from.read(b)) >= 0) {
                    if (to != null) {
                        to.write(b, 0, n);
                    }
                }
            } catch (IOException e) {
                // the client left (the process is killed) or the pipe was abandoned
            }
        });
    }

    /** Lets a copier finish what the process wrote, then abandons the pipe if a child still holds it. */
    private static void drain(Thread copier, InputStream pipe) throws InterruptedException {
        if (!copier.join(Duration.ofMillis(DRAIN_MS))) {
            try {
                pipe.close();
            } catch (IOException e) {
                // nothing more to read
            }
            copier.join(Duration.ofMillis(500));
        }
    }

    /** SIGKILL to an adopted exec process, through its pidfd (which no reused pid can redirect), and its descendants. */
    private static void killTree(StreamTarget t, int pid, int pidfd) {
        ProcessHandle.of(pid).ifPresent(h -> h.descendants().forEach(ProcessHandle::destroyForcibly));
        try {
            t.sys().pidfdSendSignal(pidfd, SIGKILL);
        } catch (IOException e) {
            // already reaped
        }
    }

    /**
     * The exec's process.json: read once by the runtime and deleted after, in the bundle on tmpfs,
     * so no fsync-and-rename (which cost a few milliseconds of every exec's round trip).
     */
    /** The exec's process file: mode 0600 (its environment), on tmpfs, read once by the runtime. */
    private static void writeProcess(Process process, Path file) throws IOException {
        SpecJson.write(process, file, io.stevedore.oci.fs.AtomicFiles.Durability.ATOMIC_ONLY);
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // in the bundle: removed with the container
        }
    }
}

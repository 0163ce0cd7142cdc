package io.stevedore.cni.internal;

import com.fasterxml.jackson.databind.JsonNode;
import io.stevedore.cni.CniException;
import io.stevedore.cni.PluginError;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** {@link PluginExec} with {@link ProcessBuilder}; pipes are pumped by virtual threads. */
public final class ProcessPluginExec implements PluginExec {
    /** How many times a start failing with ETXTBSY is retried (a plugin being replaced), as libcni does. */
    private static final int TEXT_BUSY_RETRIES = 5;

    /** How long to wait for the pipes to drain after the plugin is gone (a stray child may hold them). */
    private static final Duration DRAIN = Duration.ofSeconds(5);

    @Override
    public byte[] exec(Path plugin, byte[] stdin, Map<String, String> env, Duration timeout) throws CniException {
        var pb = new ProcessBuilder(plugin.toString());
        pb.environment().keySet().removeIf(k -> k.startsWith("CNI_"));
        pb.environment().putAll(env);
        Process p = start(pb, plugin);
        CompletableFuture<byte[]> out = drain(p.getInputStream());
        CompletableFuture<byte[]> err = drain(p.getErrorStream());
        Thread.ofVirtual().name("cni-stdin-" + p.pid()).start(() -> {
            try (OutputStream in = p.getOutputStream()) {
                in.write(stdin);
            } catch (IOException ignored) {
                // The plugin exited or closed stdin without reading it all; its exit status tells what happened.
            }
        });
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                kill(p);
                throw new CniException("plugin %s timed out after %s and was killed".formatted(plugin, timeout));
            }
        } catch (InterruptedException e) {
            kill(p);
            Thread.currentThread().interrupt();
            throw new CniException("plugin %s interrupted and killed".formatted(plugin), e);
        }
        byte[] stdout = get(out, plugin);
        byte[] stderr = get(err, plugin);
        int code = p.exitValue();
        if (code != 0) {
            throw failure(plugin, code, stdout, stderr);
        }
        return stdout;
    }

    private static Process start(ProcessBuilder pb, Path plugin) throws CniException {
        for (int attempt = 0; ; attempt++) {
            try {
                return pb.start();
            } catch (IOException e) {
                boolean busy = String.valueOf(e.getMessage()).contains("error=26");
                if (!busy || attempt >= TEXT_BUSY_RETRIES) {
                    throw new CniException("start plugin " + plugin + ": " + e.getMessage(), e);
                }
                try {
                    Thread.sleep(100L << attempt); // back off while the binary is being written
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new CniException("start plugin " + plugin + ": interrupted", ie);
                }
            }
        }
    }

    /** Kills the plugin and every descendant (collected first: once the plugin dies they are reparented). */
    private static void kill(Process p) {
        List<ProcessHandle> descendants = p.descendants().toList();
        p.destroyForcibly();
        descendants.forEach(ProcessHandle::destroyForcibly);
        try {
            p.onExit().get(DRAIN.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException ignored) {
            // SIGKILL was sent; nothing more can be done.
        }
    }

    private static CompletableFuture<byte[]> drain(InputStream in) {
        var f = new CompletableFuture<byte[]>();
        Thread.ofVirtual().name("cni-pipe").start(() -> {
            try (in) {
                f.complete(in.readAllBytes());
            } catch (IOException e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    private static byte[] get(CompletableFuture<byte[]> f, Path plugin) throws CniException {
        try {
            return f.get(DRAIN.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CniException("read output of plugin " + plugin + ": interrupted", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new CniException("read output of plugin " + plugin + ": " + e, e);
        }
    }

    /** libcni's pluginErr: the error object on stdout, else stderr, else the exit status. */
    static CniException failure(Path plugin, int code, byte[] stdout, byte[] stderr) {
        String out = new String(stdout, StandardCharsets.UTF_8).strip();
        String err = new String(stderr, StandardCharsets.UTF_8).strip();
        if (!out.isEmpty()) {
            try {
                JsonNode n = Json.MAPPER.readTree(out);
                if (n != null && n.isObject() && (n.has("msg") || n.has("code"))) {
                    var pe = new PluginError(
                            n.path("code").asInt(0),
                            n.path("msg").asText(""),
                            n.path("details").asText(""));
                    return new CniException(pe.describe(), pe, null);
                }
            } catch (IOException ignored) {
                // Not JSON: reported as text below.
            }
            return new CniException("plugin %s exited with status %d and an unparsable error: %s%s"
                    .formatted(plugin, code, out, err.isEmpty() ? "" : "; stderr: " + err));
        }
        if (!err.isEmpty()) {
            return new CniException("plugin %s exited with status %d: %s".formatted(plugin, code, err));
        }
        return new CniException("plugin %s exited with status %d and no error message".formatted(plugin, code));
    }
}

package io.stevedore.server.streaming;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stevedore.cri.v1.AttachRequest;
import io.stevedore.cri.v1.ExecRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one exec or attach once its streams are there, whatever protocol brought them: the runtime
 * call, then the end of the output streams, then the status on the error stream, then the end of
 * the connection. Runs on its own virtual thread.
 */
final class CommandSession {
    private static final Logger log = LoggerFactory.getLogger(CommandSession.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private CommandSession() {}

    /**
     * @param request the {@link ExecRequest} or {@link AttachRequest} the token stood for
     * @param error the error stream (status goes there)
     * @param jsonStatus whether the negotiated protocol wants a JSON {@code metav1.Status} (v4+)
     */
    static void start(
            StreamRuntime runtime,
            Object request,
            CommandIo io,
            OutputStream error,
            boolean jsonStatus,
            Sessions.Session session) {
        Thread.ofVirtual().name("stream-" + kind(request)).start(() -> {
            CommandStatus status;
            try {
                status = switch (request) {
                    case ExecRequest r -> CommandStatus.exited(r.getCmdList(), runtime.exec(r, io));
                    case AttachRequest r -> {
                        runtime.attach(r, io);
                        yield CommandStatus.success();
                    }
                    default -> throw new IllegalStateException("not a command request: " + request.getClass());
                };
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                log.atWarn().addKeyValue("id", id(request)).setCause(e).log("{} session failed", kind(request));
                status = CommandStatus.failed(String.valueOf(e.getMessage()));
            } finally {
                if (io.resize() != null) {
                    io.resize().close();
                }
            }
            closeQuietly(io.stdout());
            closeQuietly(io.stderr());
            try {
                if (!io.gone().isDone()) {
                    byte[] st = status.encode(jsonStatus);
                    if (st.length > 0) {
                        error.write(st);
                    }
                }
            } catch (IOException e) {
                log.atDebug().addKeyValue("id", id(request)).log("status not delivered: {}", e.getMessage());
            }
            closeQuietly(error);
            session.finish();
            log.atInfo()
                    .addKeyValue("id", id(request))
                    .addKeyValue("exitCode", status.exitCode())
                    .log("{} session ended", kind(request));
        });
    }

    /** Decodes a resize stream (JSON objects {@code {"Width":80,"Height":24}} back to back) on its own thread. */
    static void decodeResizes(InputStream in, TerminalSizes sizes) {
        Thread.ofVirtual().name("stream-resize").start(() -> {
            try (MappingIterator<JsonNode> it = JSON.readerFor(JsonNode.class).readValues(in)) {
                while (it.hasNextValue()) {
                    offerSize(it.nextValue(), sizes);
                }
            } catch (IOException | RuntimeException e) {
                // the stream ended or carried garbage: no more resizes
            } finally {
                sizes.close();
            }
        });
    }

    /** One resize message; anything that is not a size is ignored, as the kubelet does. */
    static void offerSize(JsonNode n, TerminalSizes sizes) {
        if (n != null && n.path("Width").canConvertToInt() && n.path("Height").canConvertToInt()) {
            sizes.offer(new TerminalSizes.Size(
                    n.path("Width").asInt(), n.path("Height").asInt()));
        }
    }

    static void offerSize(byte[] json, TerminalSizes sizes) {
        try {
            offerSize(JSON.readTree(json), sizes);
        } catch (IOException e) {
            // not JSON: ignored
        }
    }

    /**
     * The streams an exec or attach request asked for. With a terminal there is no separate stderr:
     * the terminal merges it into stdout.
     */
    record Streams(boolean stdin, boolean stdout, boolean stderr, boolean tty) {
        static Streams of(Object request) {
            return switch (request) {
                case ExecRequest r ->
                    new Streams(r.getStdin(), r.getStdout(), r.getStderr() && !r.getTty(), r.getTty());
                case AttachRequest r ->
                    new Streams(r.getStdin(), r.getStdout(), r.getStderr() && !r.getTty(), r.getTty());
                default -> throw new IllegalArgumentException("not a command request");
            };
        }
    }

    static String kind(Object request) {
        return request instanceof ExecRequest ? "exec" : "attach";
    }

    static String id(Object request) {
        return switch (request) {
            case ExecRequest r -> r.getContainerId();
            case AttachRequest r -> r.getContainerId();
            default -> "";
        };
    }

    private static void closeQuietly(OutputStream s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException e) {
                // the client is gone; nothing to end
            }
        }
    }
}

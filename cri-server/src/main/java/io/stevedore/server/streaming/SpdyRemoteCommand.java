package io.stevedore.server.streaming;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * remotecommand (exec, attach) over SPDY, as the kubelet serves it: the client opens an {@code
 * error} stream and one stream per requested stdio ({@code stdin}, {@code stdout}, {@code
 * stderr}), plus {@code resize} with a terminal from v3 on; the session starts once all expected
 * streams are open, or the connection is dropped after {@link #STREAM_CREATION_TIMEOUT_S}.
 */
final class SpdyRemoteCommand implements SpdyConnection.App {
    private static final Logger log = LoggerFactory.getLogger(SpdyRemoteCommand.class);
    static final long STREAM_CREATION_TIMEOUT_S = 30;

    private final StreamRuntime runtime;
    private final Object request;
    private final Protocols.Version version;
    private final Sessions.Session session;
    private final CommandSession.Streams wanted;
    private final boolean resize;
    private SpdyConnection.Stream errorStream;
    private SpdyConnection.Stream stdinStream;
    private SpdyConnection.Stream stdoutStream;
    private SpdyConnection.Stream stderrStream;
    private SpdyConnection.Stream resizeStream;
    private ScheduledFuture<?> timeout;
    private boolean started;

    SpdyRemoteCommand(StreamRuntime runtime, Object request, Protocols.Version version, Sessions.Session session) {
        this.runtime = runtime;
        this.request = request;
        this.version = version;
        this.session = session;
        this.wanted = CommandSession.Streams.of(request);
        this.resize = wanted.tty() && version.resizeStream();
        this.timeout = session.channel
                .eventLoop()
                .schedule(
                        () -> {
                            if (!started) {
                                log.atWarn()
                                        .addKeyValue("id", CommandSession.id(request))
                                        .log("streams not created within {}s: closing", STREAM_CREATION_TIMEOUT_S);
                                session.kill();
                            }
                        },
                        STREAM_CREATION_TIMEOUT_S,
                        TimeUnit.SECONDS);
    }

    @Override
    public void onStream(SpdyConnection conn, SpdyConnection.Stream s) {
        if (started) {
            s.reset();
            return;
        }
        switch (s.header("streamtype")) {
            case "error" -> errorStream = s;
            case "stdin" -> stdinStream = s;
            case "stdout" -> stdoutStream = s;
            case "stderr" -> stderrStream = s;
            case "resize" -> resizeStream = s;
            default -> {
                log.atDebug().log("unexpected stream type \"{}\": reset", s.header("streamtype"));
                s.reset();
                return;
            }
        }
        if (errorStream == null
                || (wanted.stdin() && stdinStream == null)
                || (wanted.stdout() && stdoutStream == null)
                || (wanted.stderr() && stderrStream == null)
                || (resize && resizeStream == null)) {
            return;
        }
        started = true;
        timeout.cancel(false);
        TerminalSizes sizes = null;
        if (resizeStream != null) {
            sizes = new TerminalSizes();
            CommandSession.decodeResizes(resizeStream.in, sizes);
        } else if (wanted.tty()) {
            sizes = new TerminalSizes(); // v1/v2 have no resize stream: the terminal keeps its size
            sizes.close();
        }
        var io = new CommandIo(
                stdinStream == null ? null : stdinStream.in,
                stdoutStream == null ? null : stdoutStream.out,
                stderrStream == null ? null : stderrStream.out,
                sizes,
                session.gone);
        CommandSession.start(runtime, request, io, errorStream.out, version.jsonStatus(), session);
    }

    @Override
    public void onClose() {
        timeout.cancel(false);
        session.gone.complete(null);
    }
}

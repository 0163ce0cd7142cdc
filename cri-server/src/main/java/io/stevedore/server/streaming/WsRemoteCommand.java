package io.stevedore.server.streaming;

import io.netty.channel.ChannelPipeline;

/**
 * remotecommand over a WebSocket, the kubelet's channel layout: 0 stdin, 1 stdout, 2 stderr, 3
 * error, 4 resize (one JSON size per message). Right after the handshake an empty message goes out
 * on the lowest output channel, which tells the client the session is set up.
 */
final class WsRemoteCommand {
    static final int STDIN = 0;
    static final int STDOUT = 1;
    static final int STDERR = 2;
    static final int ERROR = 3;
    static final int RESIZE = 4;

    private WsRemoteCommand() {}

    static void start(
            ChannelPipeline p,
            String after,
            StreamRuntime runtime,
            Object request,
            Protocols.Version version,
            Sessions.Session session) {
        var wanted = CommandSession.Streams.of(request);
        TerminalSizes sizes = wanted.tty() ? new TerminalSizes() : null;
        boolean[] readable = {wanted.stdin(), false, false, false, true};
        boolean[] writable = {false, wanted.stdout(), wanted.stderr(), true, false};
        boolean[] whole = {false, false, false, false, true};
        var channels = new WsChannels(
                p.channel(),
                version,
                readable,
                writable,
                whole,
                (ch, data) -> {
                    if (sizes != null) {
                        CommandSession.offerSize(data, sizes);
                    }
                },
                () -> session.gone.complete(null));
        p.addAfter(after, "ws-channels", channels);
        int first = writable[STDOUT] ? STDOUT : writable[STDERR] ? STDERR : ERROR;
        channels.send(first, new byte[0]);
        var io = new CommandIo(channels.in(STDIN), channels.out(STDOUT), channels.out(STDERR), sizes, session.gone);
        CommandSession.start(runtime, request, io, channels.out(ERROR), version.jsonStatus(), session);
    }
}

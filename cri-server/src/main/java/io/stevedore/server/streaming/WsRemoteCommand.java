package io.stevedore.server.streaming;

import io.netty.channel.ChannelPipeline;
import io.stevedore.cri.v1.AttachRequest;
import io.stevedore.cri.v1.ExecRequest;

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

  static void start(ChannelPipeline p, String after, StreamRuntime runtime, Object request, Protocols.Version version,
      Sessions.Session session) {
    boolean stdin;
    boolean stdout;
    boolean stderr;
    boolean tty;
    switch (request) {
      case ExecRequest r -> {
        stdin = r.getStdin();
        stdout = r.getStdout();
        stderr = r.getStderr();
        tty = r.getTty();
      }
      case AttachRequest r -> {
        stdin = r.getStdin();
        stdout = r.getStdout();
        stderr = r.getStderr();
        tty = r.getTty();
      }
      default -> throw new IllegalArgumentException("not a command request");
    }
    TerminalSizes sizes = tty ? new TerminalSizes() : null;
    boolean[] readable = {stdin, false, false, false, true};
    boolean[] writable = {false, stdout, stderr && !tty, true, false};
    boolean[] whole = {false, false, false, false, true};
    var channels = new WsChannels(p.channel(), version, readable, writable, whole, (ch, data) -> {
      if (sizes != null) {
        CommandSession.offerSize(data, sizes);
      }
    }, () -> session.gone.complete(null));
    p.addAfter(after, "ws-channels", channels);
    int first = writable[STDOUT] ? STDOUT : writable[STDERR] ? STDERR : ERROR;
    channels.send(first, new byte[0]);
    var io = new CommandIo(channels.in(STDIN), channels.out(STDOUT), channels.out(STDERR), sizes, session.gone);
    CommandSession.start(runtime, request, io, channels.out(ERROR), version.jsonStatus(), session);
  }
}

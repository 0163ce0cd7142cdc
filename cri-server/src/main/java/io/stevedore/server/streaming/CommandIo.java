package io.stevedore.server.streaming;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;

/**
 * The client's side of an exec or attach session, whatever protocol carries it: blocking streams
 * for the runtime to copy to and from, resize events, and a signal that the client is gone.
 *
 * @param stdin what the client types; null when the request had no stdin
 * @param stdout where the process's output goes; null when not requested
 * @param stderr where its errors go; null when not requested (always with a terminal)
 * @param resize terminal sizes as the client sends them; null without a terminal
 * @param gone completes when the client's connection closed (or the session was ended): the
 *     runtime then stops the exec'd process and releases what it holds
 */
public record CommandIo(
        InputStream stdin,
        OutputStream stdout,
        OutputStream stderr,
        TerminalSizes resize,
        CompletableFuture<Void> gone) {}

package io.stevedore.server.container;

import com.google.protobuf.ByteString;

/** What ExecSync answers: the output kept (see {@link ExecOutput}) and the exit code. */
public record ExecResult(ByteString stdout, ByteString stderr, int exitCode) {}

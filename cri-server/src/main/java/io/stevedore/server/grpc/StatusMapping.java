package io.stevedore.server.grpc;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.stevedore.server.error.CriException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeoutException;

/**
 * The only place a gRPC status code is chosen for an exception. Unclassified failures are
 * UNKNOWN, as in containerd and CRI-O; the cause stays on the server (gRPC does not send it).
 */
public final class StatusMapping {
  private StatusMapping() {}

  public static Status toStatus(Throwable t) {
    Status s =
        switch (t) {
          case CriException.NotFound e -> Status.NOT_FOUND;
          case CriException.InvalidArgument e -> Status.INVALID_ARGUMENT;
          case CriException.FailedPrecondition e -> Status.FAILED_PRECONDITION;
          case CriException.Unavailable e -> Status.UNAVAILABLE;
          case CriException.DeadlineExceeded e -> Status.DEADLINE_EXCEEDED;
          case CriException.Unimplemented e -> Status.UNIMPLEMENTED;
          case CriException.ResourceExhausted e -> Status.RESOURCE_EXHAUSTED;
          case StatusRuntimeException e -> e.getStatus();
          case StatusException e -> e.getStatus();
          case InterruptedException e -> Status.CANCELLED;
          case CancellationException e -> Status.CANCELLED;
          case TimeoutException e -> Status.DEADLINE_EXCEEDED;
          case UnsupportedOperationException e -> Status.UNIMPLEMENTED;
          default -> Status.UNKNOWN;
        };
    if (t instanceof StatusRuntimeException || t instanceof StatusException) {
      return s; // already carries its own description
    }
    return s.withDescription(String.valueOf(t.getMessage())).withCause(t);
  }
}

package io.stevedore.server.grpc;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.stevedore.server.error.CriException;
import io.stevedore.server.error.DiskFull;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeoutException;

/**
 * The only place a gRPC status code is chosen for an exception. Unclassified failures are
 * INTERNAL (containerd and CRI-O answer UNKNOWN, but an unexpected exception is our bug, not an
 * unknowable outcome: issue 11); the cause stays on the server (gRPC does not send it). A
 * description is cut to {@link #MAX_DESCRIPTION} characters: it may echo a request's input, and
 * an 8 KiB trailer is where some clients stop reading.
 *
 * <p>A failure that is not a {@link CriException} but was caused by a full disk or an exhausted quota
 * ({@link DiskFull}: ENOSPC, EDQUOT) is RESOURCE_EXHAUSTED ("perhaps the entire file system is out of
 * space", in gRPC's own words), with a description that names what was being written and says why.
 */
public final class StatusMapping {
    private StatusMapping() {}

    public static Status toStatus(Throwable t) {
        if (t instanceof StackOverflowError || t instanceof OutOfMemoryError) {
            return Status.INTERNAL
                    .withDescription("internal error: " + t.getClass().getSimpleName())
                    .withCause(t);
        }
        if (!(t instanceof CriException) && DiskFull.is(t)) {
            return Status.RESOURCE_EXHAUSTED
                    .withDescription(cut(DiskFull.describe(t)))
                    .withCause(t);
        }
        Status s = switch (t) {
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
            default -> Status.INTERNAL;
        };
        if (t instanceof StatusRuntimeException || t instanceof StatusException) {
            return s; // already carries its own description
        }
        return s.withDescription(cut(String.valueOf(t.getMessage()))).withCause(t);
    }

    static final int MAX_DESCRIPTION = 1024;

    static String cut(String d) {
        return d.length() <= MAX_DESCRIPTION
                ? d
                : d.substring(0, MAX_DESCRIPTION) + "… (" + d.length() + " characters)";
    }
}

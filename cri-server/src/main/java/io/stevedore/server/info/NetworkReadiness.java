package io.stevedore.server.info;

import java.util.Optional;

/** Whether pod networking can be set up now; the answer feeds the CRI NetworkReady condition. */
@FunctionalInterface
public interface NetworkReadiness {
    /** Empty when ready; otherwise a message saying what is missing, for the operator. */
    Optional<String> notReadyBecause();
}

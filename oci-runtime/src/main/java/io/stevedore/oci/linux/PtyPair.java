package io.stevedore.oci.linux;

import java.nio.file.Path;

/**
 * A new pseudo-terminal from {@link PtyMaster#openPair}: the master, owned by whoever holds this
 * record (close it), and the path of its slave ({@code /dev/pts/N}), not yet opened by anyone.
 */
public record PtyPair(PtyMaster master, Path slave) {}

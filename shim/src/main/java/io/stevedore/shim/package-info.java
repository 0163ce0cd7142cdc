/**
 * The daemon side of {@code stevedore-shim}, the per-container monitor: launching it ({@link
 * io.stevedore.shim.ShimLauncher}), reading the exit file it leaves ({@link io.stevedore.shim.ExitFile}),
 * and talking to its control and attach sockets ({@link io.stevedore.shim.ShimControl}, {@link
 * io.stevedore.shim.ShimAttach}). The wire formats are specified in {@code shim/PROTOCOL.md}.
 *
 * <p>JDK only; nothing here knows about CRI.
 */
package io.stevedore.shim;

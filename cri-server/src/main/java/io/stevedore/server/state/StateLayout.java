package io.stevedore.server.state;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Every path the daemon keeps state at, named once (containerd's {@code buckets.go} for the disk).
 * Nothing else spells a directory under the roots; components take their directories from here.
 * {@link StateDirs} gives each named directory its mode: {@code <root>} 0700, {@code <run_root>}
 * 0711, {@code pause-root} 0555, every other one 0700.
 *
 * <pre>
 * &lt;root&gt;  (persistent; default /var/lib/stevedore)
 * ├── stevedore.lock                     one daemon per root (flock; names the holder's pid)
 * ├── content/blobs/sha256/&lt;digest&gt;      verified blobs: manifests, configs, layers
 * ├── snapshots/&lt;n&gt;/fs                   one unpacked layer each, shared by all images
 * ├── images/&lt;id&gt;.json                   image records
 * ├── sandboxes.meta/&lt;id&gt;.json           pod records            ┐ {"version":N,"record":{…}},
 * ├── containers.meta/&lt;id&gt;.json          container records      ┘ written tmp+fsync+rename
 * ├── {sandboxes,containers}.meta/unreadable/   records that could not be read, set aside
 * ├── sandboxes/&lt;id&gt;/                    run-config.pb (written first), resolv.conf, hosts, hostname
 * ├── containers/&lt;id&gt;/{upper,work}       a container's writable layer
 * ├── checkpoints/&lt;id[:12]&gt;-&lt;n&gt;/           CheckpointContainer's work: CRIU images, rootfs diff
 * └── {sandboxes,containers}.trash/      removed trees, deleted in the background
 *
 * &lt;run_root&gt;  (volatile, tmpfs; default /run/stevedore)
 * ├── stevedore.sock                     the CRI socket (unless configured elsewhere)
 * ├── containers/&lt;id&gt;/                  bundle: config.json, rootfs (overlay mount), init.pid
 * ├── s/&lt;id[:20]&gt;/                       shim sockets (attach, ctl), shim.pid, shim.log
 * ├── exits/&lt;id&gt;[.oom]                   exit files the shims write
 * ├── sandboxes/&lt;id&gt;/shm                 a pod's /dev/shm (tmpfs mount)
 * ├── ns/{net,ipc,uts}/&lt;id&gt;              pinned namespaces (bind mounts)
 * ├── pause-root/                        the pause process's root
 * ├── runtime/&lt;handler&gt;/                an OCI runtime's --root, unless configured
 * └── {sandboxes,containers}.trash/
 * </pre>
 *
 * @param root the persistent state root
 * @param runRoot the volatile state root
 */
public record StateLayout(Path root, Path runRoot) {
    public StateLayout {
        Objects.requireNonNull(root, "root");
        Objects.requireNonNull(runRoot, "runRoot");
    }

    public Path lockFile() {
        return root.resolve("stevedore.lock");
    }

    public Path content() {
        return root.resolve("content");
    }

    public Path snapshots() {
        return root.resolve("snapshots");
    }

    public Path images() {
        return root.resolve("images");
    }

    public Path sandboxRecords() {
        return root.resolve("sandboxes.meta");
    }

    public Path sandboxFiles() {
        return root.resolve("sandboxes");
    }

    public Path sandboxFilesTrash() {
        return root.resolve("sandboxes.trash");
    }

    public Path containerRecords() {
        return root.resolve("containers.meta");
    }

    public Path containerLayers() {
        return root.resolve("containers");
    }

    public Path containerLayersTrash() {
        return root.resolve("containers.trash");
    }

    /** CheckpointContainer's work directories; emptied at start. */
    public Path checkpoints() {
        return root.resolve("checkpoints");
    }

    public Path bundles() {
        return runRoot.resolve("containers");
    }

    public Path bundlesTrash() {
        return runRoot.resolve("containers.trash");
    }

    public Path shimSockets() {
        return runRoot.resolve("s");
    }

    public Path exits() {
        return runRoot.resolve("exits");
    }

    public Path sandboxRun() {
        return runRoot.resolve("sandboxes");
    }

    public Path sandboxRunTrash() {
        return runRoot.resolve("sandboxes.trash");
    }

    public Path namespacePins() {
        return runRoot.resolve("ns");
    }

    public Path pauseRoot() {
        return runRoot.resolve("pause-root");
    }

    /** Where the OCI runtimes keep their state, one directory per handler. */
    public Path runtimeRoots() {
        return runRoot.resolve("runtime");
    }

    /** The default {@code --root} of the OCI runtime of {@code handler}. */
    public Path runtimeRoot(String handler) {
        return runtimeRoots().resolve(handler);
    }
}

package io.stevedore.server.stats;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Open file descriptors and sockets of a container's processes, counted as cAdvisor's {@code
 * libcontainer/handler.go} and containerd's {@code getContainerProcessDescriptorCount} count them:
 * the entries of {@code /proc/<pid>/fd}, sockets being those that link to {@code socket:[inode]}.
 * A process that exits while counted, or whose directory cannot be read, counts nothing.
 * Thread-safe.
 *
 * @param fds descriptors open in all the processes
 * @param sockets of which are sockets
 */
record ProcessDescriptors(long fds, long sockets) {
    /** @param proc where procfs is mounted; tests pass a fake tree */
    static ProcessDescriptors count(Path proc, List<Long> pids) {
        long fds = 0;
        long sockets = 0;
        for (long pid : pids) {
            try (DirectoryStream<Path> dir =
                    Files.newDirectoryStream(proc.resolve(Long.toString(pid)).resolve("fd"))) {
                for (Path fd : dir) {
                    fds++;
                    try {
                        if (Files.readSymbolicLink(fd).toString().startsWith("socket:")) sockets++;
                    } catch (IOException e) {
                        // closed since listed
                    }
                }
            } catch (IOException e) {
                // exited, or not ours to read
            }
        }
        return new ProcessDescriptors(fds, sockets);
    }
}

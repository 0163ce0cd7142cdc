package io.stevedore.server.container.spec;

import io.stevedore.oci.spec.Linux;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Host device nodes as {@code linux.devices} entries: type, major and minor read with
 * {@code lstat(2)} ({@code unix:mode}, {@code unix:rdev}), like containerd's
 * {@code oci.DeviceFromPath} and {@code getDevices}.
 */
final class DeviceNodes {
    private static final int S_IFMT = 0170000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFCHR = 0020000;

    /**
     * Directories {@code getDevices} skips: pseudo-filesystems and runtime droppings
     * (lxc/lxd#2825, runc#2093).
     */
    private static final Set<String> SKIPPED_DIRS =
            Set.of("pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev");

    private DeviceNodes() {}

    /**
     * The device at {@code path}, named {@code containerPath} in the container; empty when
     * {@code path} is not a character or block device (symlinks are not followed).
     *
     * @throws NoSuchFileException when {@code path} does not exist
     */
    static Optional<Linux.Device> read(Path path, String containerPath) throws IOException {
        Map<String, Object> a = Files.readAttributes(path, "unix:mode,rdev,uid,gid", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) a.get("mode");
        String type = switch (mode & S_IFMT) {
            case S_IFCHR -> "c";
            case S_IFBLK -> "b";
            default -> null;
        };
        if (type == null) {
            return Optional.empty();
        }
        long rdev = (Long) a.get("rdev");
        return Optional.of(new Linux.Device(
                containerPath,
                type,
                major(rdev),
                minor(rdev),
                mode & 07777,
                Integer.toUnsignedLong((Integer) a.get("uid")),
                Integer.toUnsignedLong((Integer) a.get("gid"))));
    }

    /**
     * Every device below {@code dir}, recursively, named under {@code containerDir}; what
     * {@code getDevices} returns for a directory (and {@code WithHostDevices} for {@code /dev}).
     * {@code /dev/console} and the {@link #SKIPPED_DIRS} are left out; entries that vanish while
     * walking are ignored.
     */
    static List<Linux.Device> below(Path dir, String containerDir) throws IOException {
        List<Linux.Device> out = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                String name = p.getFileName().toString();
                String containerPath = containerDir + "/" + name;
                try {
                    if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                        if (!SKIPPED_DIRS.contains(name)) {
                            out.addAll(below(p, containerPath));
                        }
                    } else if (!name.equals("console")) {
                        read(p, containerPath).ifPresent(out::add);
                    }
                } catch (NoSuchFileException e) {
                    // Removed while we walked (udev at work): not a device any more.
                }
            }
        }
        return out;
    }

    /** glibc's {@code gnu_dev_major}. */
    static long major(long rdev) {
        return ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & 0xffff_f000L);
    }

    /** glibc's {@code gnu_dev_minor}. */
    static long minor(long rdev) {
        return (rdev & 0xff) | ((rdev >>> 12) & 0xffff_ff00L);
    }
}

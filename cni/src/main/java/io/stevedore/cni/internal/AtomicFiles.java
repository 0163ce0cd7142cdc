package io.stevedore.cni.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes a file so that readers, and the machine after a crash, see either the old content or the
 * whole new one.
 *
 * <p>A copy of the byte-array {@code write} of oci-runtime's {@code io.stevedore.oci.fs.AtomicFiles},
 * with the same guarantee: a temp file beside the target named {@code .<name>.<16 hex>.tmp} (hidden,
 * so neither the conf loader nor the result cache lists it), created {@code O_EXCL|O_NOFOLLOW}, set to
 * exactly the caller's mode, written fully, {@code fsync}ed, renamed over the target, and the
 * directory {@code fsync}ed; on any failure before the rename the temp file is removed. It is a copy
 * because this module is a CRI-agnostic library that depends on the JDK and Jackson only, as libcni
 * does, and must not depend on oci-runtime for one small class. Change both together. It differs in one
 * detail of cost only: it always {@code chmod}s, as nothing here is on a hot path.
 *
 * <p>Directories are not created. Thread-safe; concurrent writers of one target each use their own
 * temp file, and the target ends up holding one writer's whole content.
 */
public final class AtomicFiles {
    private static final int MAX_NAME_IN_TEMP = 100;
    private static final int MAX_ATTEMPTS = 16;
    private static final Set<OpenOption> CREATE_TEMP =
            Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);

    private AtomicFiles() {}

    /**
     * Replaces {@code target} with {@code data}, durably.
     *
     * @param mode the file's permission bits, such as {@code 0644} or {@code 0600}
     */
    public static void write(Path target, byte[] data, int mode) throws IOException {
        Set<PosixFilePermission> perms = permissions(mode);
        Path dir = target.toAbsolutePath().getParent();
        String name = target.getFileName().toString();
        Path tmp = null;
        try {
            FileChannel opened = null;
            for (int attempt = 1; opened == null; attempt++) {
                Path candidate = dir.resolve(tempName(name));
                try {
                    opened = FileChannel.open(candidate, CREATE_TEMP, PosixFilePermissions.asFileAttribute(perms));
                    tmp = candidate;
                } catch (FileAlreadyExistsException e) {
                    if (attempt == MAX_ATTEMPTS) {
                        throw e;
                    }
                }
            }
            try (FileChannel ch = opened) {
                Files.setPosixFilePermissions(tmp, perms); // open(2) applied the umask
                ByteBuffer buf = ByteBuffer.wrap(data);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (Throwable t) {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException | RuntimeException e) {
                    t.addSuppressed(e);
                }
            }
            throw t;
        }
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            throw new IOException(
                    "replaced " + target + ", but could not fsync its directory (the rename may not survive"
                            + " a power loss): " + e.getMessage(),
                    e);
        }
    }

    private static String tempName(String targetName) {
        String stem = targetName.length() <= MAX_NAME_IN_TEMP ? targetName : targetName.substring(0, MAX_NAME_IN_TEMP);
        return "." + stem + "."
                + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()) + ".tmp";
    }

    /** {@code 0644} as {@code rw-r--r--}; setuid, setgid and sticky bits are refused. */
    static Set<PosixFilePermission> permissions(int mode) {
        if ((mode & ~0777) != 0) {
            throw new IllegalArgumentException("mode " + Integer.toOctalString(mode) + " is not within 0777");
        }
        var perms = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] bits = PosixFilePermission.values(); // OWNER_READ … OTHERS_EXECUTE, 0400 … 0001
        for (int i = 0; i < bits.length; i++) {
            if ((mode & (0400 >> i)) != 0) {
                perms.add(bits[i]);
            }
        }
        return perms;
    }
}

package io.stevedore.oci.fs;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Replaces a file so that a reader, or the machine after a crash, sees the old content or the whole
 * new one, never a part. The one way every module of Stevedore that keeps state writes a file (the
 * cni module keeps a copy of the byte-array variant, see its {@code AtomicFiles}).
 *
 * <p>The guarantee, the same for every variant: the content goes to a temp file in the target's own
 * directory (so the rename cannot cross a filesystem), named {@code .<target name>.<16 hex>.tmp} and
 * created with {@code O_CREAT|O_EXCL|O_NOFOLLOW} with the caller's mode, then set to exactly that mode
 * if the umask took bits away; it is written fully and {@code fsync}ed, renamed over the target
 * ({@code rename(2)}: atomic, replacing what is there), and the directory is {@code fsync}ed so the
 * rename itself survives a power loss. On any failure before the rename, the temp file is removed.
 * A temp name starts with a dot and ends in {@code .tmp}, so loaders that skip hidden files or
 * {@code *.tmp} never take one for data, and start-up cleanup can recognise leftovers of a crash
 * with {@link #isTempName}.
 *
 * <p>{@link Durability#ATOMIC_ONLY} skips both {@code fsync}s and keeps the rest: the file is still
 * replaced atomically for readers and against a crash of the process, but not against a power loss.
 * It is for files on tmpfs, where {@code fsync} does nothing useful (nothing there survives a
 * reboot), and where the caller has measured that the two syscalls matter.
 *
 * <p>Directories are not created: a missing directory is the caller's to explain. Thread-safe; every
 * writer uses its own temp file, so concurrent writers of one target never see each other's bytes
 * and the target ends up holding one writer's whole content (the last rename wins). The target is
 * not locked: callers that read-modify-write serialise themselves.
 *
 * {@snippet :
 * AtomicFiles.write(dir.resolve("abc.json"), json, 0600);                 // bytes in hand
 * AtomicFiles.write(dir.resolve("big.json"), 0644, out -> mapper.writeValue(out, value)); // streamed
 * }
 */
public final class AtomicFiles {
    /** How much of the target's name goes into a temp name, so that it stays under NAME_MAX. */
    private static final int MAX_NAME_IN_TEMP = 100;

    private static final int MAX_ATTEMPTS = 16;
    private static final Set<OpenOption> CREATE_TEMP =
            Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);

    /**
     * The process's umask, read once from {@code /proc/self/status} (Linux 4.7+), or -1 when it cannot
     * be read. Nothing in a JVM changes the umask after start (there is no API for it), and Stevedore
     * never calls {@code umask(2)}; so a mode the umask leaves alone, such as 0644 or 0600 under the
     * usual 022, needs no {@code chmod} after {@code open(2)}. That {@code chmod} was a tenth of the
     * cost of a config.json write on tmpfs, where every CreateContainer and exec writes one.
     */
    private static final int UMASK = readUmask();

    private AtomicFiles() {}

    /** Whether a write is made to survive a power loss, at the cost of two {@code fsync}s. */
    public enum Durability {
        /** Atomic for readers and against crashes and power loss: both {@code fsync}s. */
        DURABLE,
        /** Atomic for readers and against a crash of the process; no {@code fsync}: for tmpfs. */
        ATOMIC_ONLY
    }

    /** Writes the content of a file being replaced. */
    @FunctionalInterface
    public interface Content {
        /**
         * Writes the whole content to {@code out}, which is buffered. Closing {@code out} only flushes
         * it (so {@code ObjectMapper.writeValue(out, …)} is fine); the file is finished when this returns.
         * Any exception aborts the write: the temp file is removed and the target left as it was.
         */
        void writeTo(OutputStream out) throws IOException;
    }

    /**
     * Replaces {@code target} with {@code data}, durably.
     *
     * @param mode the file's permission bits, such as {@code 0644} or {@code 0600}
     * @throws IOException if the file cannot be written; the target is then unchanged, unless the rename
     *     was done and only the directory {@code fsync} failed (the message says so)
     */
    public static void write(Path target, byte[] data, int mode) throws IOException {
        write(target, data, mode, Durability.DURABLE);
    }

    /** {@link #write(Path, byte[], int)} with a choice of {@link Durability}. */
    public static void write(Path target, byte[] data, int mode, Durability durability) throws IOException {
        replace(target, mode, durability, ch -> {
            ByteBuffer buf = ByteBuffer.wrap(data);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
        });
    }

    /** Replaces {@code target} with what {@code content} writes, durably. */
    public static void write(Path target, int mode, Content content) throws IOException {
        write(target, mode, Durability.DURABLE, content);
    }

    /** {@link #write(Path, int, Content)} with a choice of {@link Durability}. */
    public static void write(Path target, int mode, Durability durability, Content content) throws IOException {
        replace(target, mode, durability, ch -> {
            var out = new BufferedOutputStream(Channels.newOutputStream(ch), 16 * 1024);
            content.writeTo(new FlushOnClose(out));
            out.flush();
        });
    }

    /**
     * The commit step alone, for content the caller has streamed into a file of its own (a download
     * verified as it arrived, say): sets {@code written} to {@code mode}, {@code fsync}s it, renames it
     * over {@code target} and {@code fsync}s the target's directory. {@code written} must be a regular
     * file on the target's filesystem, and no one may write to it any more. On failure before the
     * rename, {@code written} is removed.
     */
    public static void commit(Path written, Path target, int mode) throws IOException {
        commit(written, target, mode, Durability.DURABLE);
    }

    /** {@link #commit(Path, Path, int)} with a choice of {@link Durability}. */
    public static void commit(Path written, Path target, int mode, Durability durability) throws IOException {
        Set<PosixFilePermission> perms = permissions(mode);
        Path dir = directoryOf(target);
        try {
            Files.setPosixFilePermissions(written, perms);
            if (durability == Durability.DURABLE) {
                try (FileChannel ch = FileChannel.open(written, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
                    ch.force(true);
                }
            }
            Files.move(written, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (Throwable t) {
            deleteAfterFailure(written, t);
            throw t;
        }
        if (durability == Durability.DURABLE) {
            syncDirectory(dir, target);
        }
    }

    /**
     * Whether {@code fileName} is the name of one of this class's temp files: a leftover of a crash
     * mid-write when no write is under way, which a store may delete at start-up.
     */
    public static boolean isTempName(String fileName) {
        return fileName.startsWith(".") && fileName.endsWith(".tmp");
    }

    /** Fills the open temp file; the helper forces and closes it. */
    @FunctionalInterface
    private interface Filler {
        void fill(FileChannel ch) throws IOException;
    }

    private static void replace(Path target, int mode, Durability durability, Filler filler) throws IOException {
        Set<PosixFilePermission> perms = permissions(mode);
        Path dir = directoryOf(target);
        String name = target.getFileName().toString();
        Path tmp = null;
        try {
            FileChannel opened = null;
            for (int attempt = 1; opened == null; attempt++) {
                Path candidate = dir.resolve(tempName(name));
                try {
                    opened = FileChannel.open(candidate, CREATE_TEMP, asAttribute(perms));
                    tmp = candidate;
                } catch (FileAlreadyExistsException e) {
                    if (attempt == MAX_ATTEMPTS) {
                        throw e;
                    }
                }
            }
            try (FileChannel ch = opened) {
                if (umaskMayStrip(mode)) {
                    // open(2) applied the umask, which may have taken bits away: put them back.
                    Files.setPosixFilePermissions(tmp, perms);
                }
                filler.fill(ch);
                if (durability == Durability.DURABLE) {
                    ch.force(true);
                }
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (Throwable t) {
            if (tmp != null) {
                deleteAfterFailure(tmp, t);
            }
            throw t;
        }
        if (durability == Durability.DURABLE) {
            syncDirectory(dir, target);
        }
    }

    private static String tempName(String targetName) {
        String stem = targetName.length() <= MAX_NAME_IN_TEMP ? targetName : targetName.substring(0, MAX_NAME_IN_TEMP);
        // Unique enough that writers of one target practically never meet; O_EXCL and the retry
        // make a meeting harmless, and a name planted in advance (a symlink) is refused, not followed.
        return "." + stem + "."
                + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()) + ".tmp";
    }

    private static void syncDirectory(Path dir, Path target) throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            throw new IOException(
                    "replaced " + target + ", but could not fsync its directory (the rename may not survive"
                            + " a power loss): " + e.getMessage(),
                    e);
        }
    }

    private static void deleteAfterFailure(Path tmp, Throwable cause) {
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException | RuntimeException e) {
            cause.addSuppressed(e);
        }
    }

    private static Path directoryOf(Path target) {
        Path dir = target.toAbsolutePath().getParent();
        if (dir == null || target.getFileName() == null) {
            throw new IllegalArgumentException("not a file path: " + target);
        }
        return dir;
    }

    private static FileAttribute<Set<PosixFilePermission>> asAttribute(Set<PosixFilePermission> perms) {
        return PosixFilePermissions.asFileAttribute(perms);
    }

    static boolean umaskMayStrip(int mode) {
        return UMASK < 0 || (mode & UMASK) != 0;
    }

    private static int readUmask() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Umask:")) {
                    return Integer.parseInt(line.substring("Umask:".length()).strip(), 8);
                }
            }
        } catch (IOException | RuntimeException e) {
            // an older kernel, or no procfs: chmod every file
        }
        return -1;
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

    /** Lets a {@link Content} close its stream (as Jackson does) without closing the file under us. */
    private static final class FlushOnClose extends OutputStream {
        private final OutputStream out;

        FlushOnClose(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        @Override
        public void close() throws IOException {
            out.flush();
        }
    }
}

package io.stevedore.server.image.unpack;

import com.sun.security.auth.module.UnixSystem;
import io.stevedore.oci.linux.Errno;
import io.stevedore.oci.linux.SyscallException;
import io.stevedore.oci.linux.Syscalls;
import io.stevedore.server.image.FileTrees;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Unpacks one OCI layer (an uncompressed tar stream) into an empty directory in the form the
 * overlay filesystem reads: a whiteout {@code .wh.<name>} becomes a 0:0 character device
 * {@code <name>}, an opaque marker {@code .wh..wh..opq} becomes {@code trusted.overlay.opaque=y}
 * on its directory. Owners, modes (setuid, setgid, sticky included), xattrs, hard links, symbolic
 * links, device nodes, FIFOs and modification times are kept.
 *
 * <p><b>Path safety.</b> Nothing is ever written outside {@code dest}: names are cleaned as
 * containerd cleans them (a leading {@code /} or {@code ./} is dropped), a name or hard-link
 * target that climbs out with {@code ..} is refused, and so is any entry whose parent path goes
 * through a symbolic link or a non-directory, so a symlink planted earlier in the layer cannot be
 * written through. A refused entry fails the whole layer with {@link UnpackException}; the caller
 * discards the directory.
 *
 * <p><b>Size.</b> What is written is charged to an {@link UnpackBudget} before it is written, so a
 * layer that decompresses to far more than it weighs stops at its limit, not at a full disk.
 *
 * <p>Thread-safe: each call works on its own directory.
 */
public final class LayerUnpacker {
    private static final String WHITEOUT = ".wh.";
    private static final String OPAQUE = ".wh..wh..opq";
    /** What an entry costs beyond its content: an inode and a directory entry, counted as a tar block. */
    private static final long ENTRY_COST = 512;

    private static final int COPY_CHUNK = 64 * 1024;

    private final Syscalls sys;
    private final boolean root = new UnixSystem().getUid() == 0;

    public LayerUnpacker(Syscalls sys) {
        this.sys = sys;
    }

    /** Unpacks {@code tar} into the empty directory {@code dest}, with no limit on its size. */
    public UnpackStats unpack(InputStream tar, Path dest) throws IOException, UnpackException {
        return unpack(tar, dest, UnpackBudget.unlimited());
    }

    /**
     * Unpacks {@code tar} into the empty directory {@code dest}, charging {@code budget} for what it
     * writes before writing it.
     *
     * @throws SizeLimitException when the layer would pass a limit of {@code budget}; what was
     *     unpacked so far stays in {@code dest}, for the caller to discard
     */
    public UnpackStats unpack(InputStream tar, Path dest, UnpackBudget budget) throws IOException, UnpackException {
        var reader = new TarReader(tar);
        List<DirTime> dirTimes = new ArrayList<>();
        long entries = 0;
        long bytes = 0;
        for (TarReader.Entry e; (e = reader.next()) != null; ) {
            String rel = clean(e.name(), e.name());
            if (rel.isEmpty()) {
                continue; // the layer's root itself: dest already exists
            }
            entries++;
            budget.charge(ENTRY_COST + xattrBytes(e));
            Path target = dest.resolve(rel);
            Path parent = safeParent(dest, rel, e.name());
            String base = target.getFileName().toString();
            if (base.equals(OPAQUE)) {
                xattr(parent, "trusted.overlay.opaque", "y".getBytes(StandardCharsets.US_ASCII), e.name(), true);
                continue;
            }
            if (base.startsWith(WHITEOUT)) {
                String hiddenName = base.substring(WHITEOUT.length());
                if (hiddenName.startsWith(WHITEOUT)) {
                    continue; // other AUFS metadata (.wh..wh.plnk…): dropped, as containerd drops it
                }
                if (hiddenName.isEmpty() || hiddenName.equals(".") || hiddenName.equals("..")) {
                    // ".wh.." would hide (and so remove) the directory itself, ".wh..." the one above the layer
                    throw new UnpackException("entry \"" + e.name() + "\": whiteout names no file");
                }
                Path hidden = parent.resolve(hiddenName);
                removeExisting(hidden);
                sys.mknod(hidden, Syscalls.S_IFCHR, 0, 0);
                owner(hidden, e);
                continue;
            }
            switch (e.type()) {
                case '0', '7' -> {
                    removeExisting(target);
                    try (OutputStream out = Files.newOutputStream(
                            target,
                            StandardOpenOption.CREATE_NEW,
                            StandardOpenOption.WRITE,
                            LinkOption.NOFOLLOW_LINKS)) {
                        bytes += copy(reader.data(), out, budget);
                    }
                }
                case '5' -> {
                    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)
                            && !Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                        removeExisting(target);
                    }
                    if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                        Files.createDirectory(target);
                    }
                }
                case '2' -> {
                    removeExisting(target);
                    Files.createSymbolicLink(target, Path.of(e.link()));
                }
                case '1' -> {
                    String linkRel = clean(e.link(), e.name());
                    Path source = dest.resolve(linkRel);
                    safeParent(dest, linkRel, e.name());
                    if (!Files.exists(source, LinkOption.NOFOLLOW_LINKS)
                            || Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS)) {
                        throw new UnpackException("entry \"" + e.name() + "\": hard link target \"" + e.link()
                                + "\" is not a file earlier in this layer");
                    }
                    removeExisting(target);
                    Files.createLink(target, source);
                    continue; // a hard link shares its target's inode: attributes are the target's
                }
                case '3', '4', '6' -> {
                    removeExisting(target);
                    int type =
                            e.type() == '3' ? Syscalls.S_IFCHR : e.type() == '4' ? Syscalls.S_IFBLK : Syscalls.S_IFIFO;
                    sys.mknod(target, type | (e.mode() & 07777), e.devMajor(), e.devMinor());
                }
                default ->
                    throw new UnpackException(
                            "entry \"" + e.name() + "\": unsupported tar entry type '" + e.type() + "'");
            }
            attributes(target, e);
            if (e.type() == '5') {
                dirTimes.add(new DirTime(target, e));
            } else {
                times(target, e);
            }
        }
        // Directory times last, deepest first: writing into a directory changes its mtime.
        for (int i = dirTimes.size() - 1; i >= 0; i--) {
            times(dirTimes.get(i).dir(), dirTimes.get(i).entry());
        }
        return new UnpackStats(entries, bytes);
    }

    private record DirTime(Path dir, TarReader.Entry entry) {}

    private static long xattrBytes(TarReader.Entry e) {
        long n = 0;
        for (byte[] v : e.xattrs().values()) {
            n += v.length;
        }
        return n;
    }

    /** Copies a file's content, charging each chunk before it is written. */
    private static long copy(InputStream in, OutputStream out, UnpackBudget budget)
            throws IOException, SizeLimitException {
        byte[] buf = new byte[COPY_CHUNK];
        long total = 0;
        for (int n; (n = in.read(buf)) > 0; ) {
            budget.charge(n);
            out.write(buf, 0, n);
            total += n;
        }
        return total;
    }

    /**
     * The entry's path relative to the layer root, cleaned; refused when it climbs out.
     *
     * @param entry the entry being unpacked, for the message
     */
    static String clean(String name, String entry) throws UnpackException {
        List<String> parts = new ArrayList<>();
        for (String p : name.split("/")) {
            if (p.isEmpty() || p.equals(".")) {
                continue;
            }
            if (p.equals("..")) {
                if (parts.isEmpty()) {
                    throw new UnpackException("entry \"" + entry + "\": path \"" + name + "\" escapes the layer");
                }
                parts.removeLast();
                continue;
            }
            parts.add(p);
        }
        return String.join("/", parts);
    }

    /**
     * Makes sure every directory above {@code rel} is a real directory inside {@code dest}, creating
     * missing ones (tar archives may omit them), and never passing through a symbolic link.
     */
    private Path safeParent(Path dest, String rel, String entry) throws IOException, UnpackException {
        Path dir = dest;
        String[] parts = rel.split("/");
        for (int i = 0; i < parts.length - 1; i++) {
            dir = dir.resolve(parts[i]);
            if (Files.isSymbolicLink(dir)) {
                throw new UnpackException("entry \"" + entry + "\": refusing to write through symbolic link \""
                        + dest.relativize(dir) + "\"");
            }
            if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectory(dir);
            } else if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                throw new UnpackException(
                        "entry \"" + entry + "\": \"" + dest.relativize(dir) + "\" is not a directory");
            }
        }
        return dir;
    }

    /** An entry replaces what an earlier entry of the same layer put there, as tar does. */
    private static void removeExisting(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            Files.delete(p);
            return;
        }
        FileTrees.delete(p);
    }

    /** Owner first (chown clears setuid), then the full mode, then xattrs. */
    private void attributes(Path p, TarReader.Entry e) throws IOException, UnpackException {
        owner(p, e);
        if (e.type() != '2') {
            sys.chmod(p, e.mode() & 07777); // never the JDK's unix:mode: it opens the file, and a FIFO blocks
        }
        for (var x : e.xattrs().entrySet()) {
            xattr(p, x.getKey(), x.getValue(), e.name(), x.getKey().startsWith("security."));
        }
    }

    /** Ownership only as root: unprivileged unpacking (tests) keeps the caller's ids. */
    private void owner(Path p, TarReader.Entry e) throws IOException {
        if (root) {
            Files.setAttribute(p, "unix:uid", e.uid(), LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(p, "unix:gid", e.gid(), LinkOption.NOFOLLOW_LINKS);
        }
    }

    /**
     * Sets an xattr. Attributes the filesystem or our privileges do not allow are skipped unless
     * {@code required} (the overlay opaque marker, capabilities): a layer's user.* attributes are
     * not worth failing a pull for.
     */
    private void xattr(Path p, String name, byte[] value, String entry, boolean required)
            throws SyscallException, UnpackException {
        try {
            sys.lsetxattr(p, name, value);
        } catch (SyscallException ex) {
            if (ex.errno() == Errno.ENOSPC || ex.errno() == Errno.EDQUOT) {
                throw ex; // the disk, not the layer: a retry once there is room succeeds
            }
            boolean refused = ex.errno() == Errno.EPERM || ex.errno() == Errno.ENOTSUP;
            if (!refused || required && root) {
                throw new UnpackException("entry \"" + entry + "\": " + ex.getMessage());
            }
        }
    }

    /** By path, never by opening it: opening a FIFO with no writer blocks forever. */
    private void times(Path p, TarReader.Entry e) throws IOException {
        Instant t = Instant.ofEpochSecond(e.mtimeSeconds(), e.mtimeNanos());
        sys.utimensat(p, t, t);
    }
}

package io.stevedore.server.stats;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * {@code statx(2)} for what the JDK's attribute views lack: {@code st_blocks}, the space a file
 * occupies (sparse files and small files differ from their size). {@code struct statx} has one
 * layout on every architecture, unlike {@code struct stat}. Where glibc has no {@code statx}
 * (before 2.28) the apparent size, rounded up to a 512-byte block, stands in.
 */
final class Statx {
    /** @param nlink hard links to the inode; @param allocatedBytes {@code stx_blocks * 512} */
    record Inode(long nlink, long allocatedBytes) {}

    private static final int AT_FDCWD = -100;
    private static final int AT_SYMLINK_NOFOLLOW = 0x100;
    private static final int STATX_NLINK = 0x4;
    private static final int STATX_BLOCKS = 0x400;
    private static final int ENOENT = 2;
    private static final int ENOTDIR = 20;
    private static final long STRUCT_SIZE = 256;
    private static final long NLINK_OFFSET = 16; // __u32 stx_nlink
    private static final long BLOCKS_OFFSET = 48; // __u64 stx_blocks

    private static final StructLayout CAPTURED = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURED.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle STATX = link();

    private Statx() {}

    private static MethodHandle link() {
        Linker linker = Linker.nativeLinker();
        return linker.defaultLookup()
                .find("statx")
                .map(fn -> linker.downcallHandle(
                        fn,
                        FunctionDescriptor.of(
                                ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_INT,
                                ValueLayout.ADDRESS,
                                ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_INT,
                                ValueLayout.ADDRESS),
                        Linker.Option.captureCallState("errno")))
                .orElse(null);
    }

    /** The path itself, a final symbolic link not followed. */
    static Inode of(Path path) throws IOException {
        if (STATX == null) {
            var attrs = Files.readAttributes(path, "unix:nlink,size", LinkOption.NOFOLLOW_LINKS);
            long size = ((Number) attrs.get("size")).longValue();
            return new Inode(((Number) attrs.get("nlink")).longValue(), (size + 511) / 512 * 512);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURED);
            MemorySegment buf = a.allocate(STRUCT_SIZE, 8);
            int r = (int) STATX.invokeExact(
                    state,
                    AT_FDCWD,
                    a.allocateFrom(path.toString()),
                    AT_SYMLINK_NOFOLLOW,
                    STATX_NLINK | STATX_BLOCKS,
                    buf);
            if (r < 0) {
                int errno = (int) ERRNO.get(state, 0L);
                if (errno == ENOENT || errno == ENOTDIR) {
                    throw new NoSuchFileException(path.toString());
                }
                throw new IOException("statx " + path + ": errno " + errno);
            }
            long nlink = Integer.toUnsignedLong(buf.get(ValueLayout.JAVA_INT, NLINK_OFFSET));
            return new Inode(nlink, buf.get(ValueLayout.JAVA_LONG, BLOCKS_OFFSET) * 512);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("statx " + path, t);
        }
    }
}

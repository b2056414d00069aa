package dev.tickvm.snapshot;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Which pages of guest RAM the kernel has ever given memory to, from {@code /proc/self/pagemap}:
 * a page of an anonymous private mapping that is neither present nor swapped out reads as zero
 * without being looked at. So a save need not read (and so fault in) the RAM a guest never
 * touched: reading it cost about 0.17 ms per MiB, most of a 1 GiB VM's save (bench/README.md,
 * Scale).
 *
 * <p>Linux only, native memory only; anything else (no pagemap, a short read) gives null, and
 * the save reads every page as before. Each pagemap entry is 64 bits: bit 63 present, bit 62
 * swapped (Documentation/admin-guide/mm/pagemap.rst in the kernel).
 */
final class PagePresence {
    private static final long PAGE = Format.PAGE_SIZE;
    private static final long PRESENT = 1L << 63;
    private static final long SWAPPED = 1L << 62;
    private static final Path PAGEMAP = Path.of("/proc/self/pagemap");

    private PagePresence() {
    }

    /**
     * One bit per page of {@code ram} (bit {@code p % 64} of word {@code p / 64}): set when the page
     * may hold something other than zeros. Null when that cannot be known.
     */
    static long[] populated(MemorySegment ram) {
        if (!ram.isNative() || ram.address() % PAGE != 0 || ram.byteSize() % PAGE != 0) {
            return null;
        }
        long pages = ram.byteSize() / PAGE;
        long[] bits = new long[(int) ((pages + 63) / 64)];
        try (FileChannel pagemap = FileChannel.open(PAGEMAP, StandardOpenOption.READ)) {
            ByteBuffer entries = ByteBuffer.allocateDirect(64 << 10).order(ByteOrder.LITTLE_ENDIAN);
            long first = ram.address() / PAGE;
            long page = 0;
            while (page < pages) {
                entries.clear();
                entries.limit((int) Math.min(entries.capacity(), (pages - page) * 8));
                while (entries.hasRemaining()) {
                    if (pagemap.read(entries, (first + page) * 8 + entries.position()) < 0) {
                        return null;
                    }
                }
                entries.flip();
                while (entries.hasRemaining()) {
                    if ((entries.getLong() & (PRESENT | SWAPPED)) != 0) {
                        bits[(int) (page >>> 6)] |= 1L << page;
                    }
                    page++;
                }
            }
            return bits;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The first page in [from, to) whose bit is set in {@code bits}, or {@code to}. */
    static long nextSet(long[] bits, long from, long to) {
        for (long p = from; p < to; ) {
            long word = bits[(int) (p >>> 6)] >>> (p & 63);
            if (word != 0) {
                return Math.min(to, p + Long.numberOfTrailingZeros(word));
            }
            p = (p | 63) + 1;
        }
        return to;
    }

    /** The first page in [from, to) whose bit is clear, or {@code to}. */
    static long nextClear(long[] bits, long from, long to) {
        for (long p = from; p < to; ) {
            long word = ~bits[(int) (p >>> 6)] >>> (p & 63);
            if (word != 0) {
                return Math.min(to, p + Long.numberOfTrailingZeros(word));
            }
            p = (p | 63) + 1;
        }
        return to;
    }
}

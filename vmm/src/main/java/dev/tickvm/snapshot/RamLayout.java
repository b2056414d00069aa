package dev.tickvm.snapshot;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.stream.LongStream;

/**
 * Which pages of guest RAM a snapshot stores: the runs of consecutive non-zero pages, judged on
 * the bytes as saved (overrides applied). The run table goes before the page bytes in the file,
 * so the runs are found first, in a pass that costs little: a zero page is confirmed by a
 * vectorized compare against a zero block, and a non-zero one usually by its first bytes.
 */
final class RamLayout {
    private static final long PAGE = Format.PAGE_SIZE;
    /** Compared against whole: small enough to stay in cache, large enough to skip zero RAM in few calls. */
    private static final MemorySegment ZEROS = MemorySegment.ofArray(new byte[64 << 10]);

    /** first page, page count; pairs. */
    private long[] runs = new long[64];
    private int runCount;
    private long pages;

    private RamLayout() {
    }

    static RamLayout scan(MemorySegment ram, List<ByteOverride> sortedOverrides) {
        RamLayout layout = new RamLayout();
        long totalPages = ram.byteSize() / PAGE;
        long[] overridden = overriddenPages(sortedOverrides);
        MemorySegment scratch = MemorySegment.ofArray(new byte[(int) PAGE]);
        // Pages the guest never touched are zero without a look (PagePresence); null: look at all.
        long[] populated = PagePresence.populated(ram);
        int next = 0;
        long page = 0;
        while (page < totalPages) {
            while (next < overridden.length && overridden[next] < page) {
                next++;
            }
            long limit = next < overridden.length ? overridden[next] : totalPages;
            if (page == limit) {
                // Judge this page on what will be stored: the override may be all there is in it, or undo it.
                MemorySegment.copy(ram, page * PAGE, scratch, 0, PAGE);
                ByteOverride.apply(sortedOverrides, page * PAGE, scratch, 0, PAGE);
                if (firstNonZero(scratch, 0, PAGE) >= 0) {
                    layout.add(page);
                }
                page++;
                continue;
            }
            long at = populated == null ? firstNonZero(ram, page * PAGE, limit * PAGE)
                    : firstNonZeroPopulated(ram, populated, page, limit);
            if (at < 0) {
                page = limit;
            } else {
                layout.add(at / PAGE);
                page = at / PAGE + 1;
            }
        }
        return layout;
    }

    int runCount() {
        return runCount;
    }

    long pages() {
        return pages;
    }

    /** Run count, the table, the page bytes. */
    long payloadLength() {
        return Long.BYTES + (long) runCount * Format.RUN_BYTES + pages * PAGE;
    }

    /** The RAM section's payload: the run table, then each run's pages as saved. */
    void writePayload(FrameWriter out, MemorySegment ram, List<ByteOverride> sortedOverrides) throws IOException {
        out.putLong(runCount);
        for (int i = 0; i < runCount; i++) {
            out.putLong(runs[2 * i]);
            out.putLong(runs[2 * i + 1]);
        }
        for (int i = 0; i < runCount; i++) {
            out.putRam(ram, runs[2 * i] * PAGE, runs[2 * i + 1] * PAGE, sortedOverrides);
        }
    }

    private void add(long page) {
        pages++;
        if (runCount > 0 && runs[2 * runCount - 2] + runs[2 * runCount - 1] == page) {
            runs[2 * runCount - 1]++;
            return;
        }
        if (2 * runCount == runs.length) {
            runs = Arrays.copyOf(runs, 2 * runs.length);
        }
        runs[2 * runCount] = page;
        runs[2 * runCount + 1] = 1;
        runCount++;
    }

    /** Offset of the first non-zero byte in [from, to), or -1. */
    static long firstNonZero(MemorySegment segment, long from, long to) {
        for (long at = from; at < to; at += ZEROS.byteSize()) {
            long n = Math.min(ZEROS.byteSize(), to - at);
            long mismatch = MemorySegment.mismatch(segment, at, at + n, ZEROS, 0, n);
            if (mismatch >= 0) {
                return at + mismatch;
            }
        }
        return -1;
    }

    /** As {@link #firstNonZero} over pages [from, to), reading only the pages set in {@code populated}. */
    static long firstNonZeroPopulated(MemorySegment ram, long[] populated, long from, long to) {
        long page = from;
        while (page < to) {
            long start = PagePresence.nextSet(populated, page, to);
            if (start == to) {
                return -1;
            }
            long end = PagePresence.nextClear(populated, start, to);
            long at = firstNonZero(ram, start * PAGE, end * PAGE);
            if (at >= 0) {
                return at;
            }
            page = end;
        }
        return -1;
    }

    /** The pages that overrides touch, ascending, each once. */
    private static long[] overriddenPages(List<ByteOverride> sorted) {
        return sorted.stream()
                .flatMapToLong(o -> LongStream.rangeClosed(o.address() / PAGE, (o.end() - 1) / PAGE))
                .distinct().sorted().toArray();
    }
}

package dev.tickvm.snapshot;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * Walks the run table of a RAM section from the file, a block at a time, checking every run as
 * it comes: not empty, inside RAM, after the previous one. Nothing is allocated in proportion to
 * the claimed run count, which is checked against RAM's page count and the payload's length
 * before the first run is read. Used by the scan (which only checks) and by the decoder (which
 * walks the table again in step with the page bytes).
 *
 * <p>The RAM payload: run count (u64), then per run its first page and page count (u64 each),
 * then the pages of every run, in run order.
 */
final class RunTable {
    private static final int BLOCK_RUNS = 4096;

    private final FileInput in;
    private final Location at;
    private final long ramPages;
    private final long runCount;
    private final long tableOffset;
    private final long dataBytes;
    private final CRC32C crc;
    private final ByteBuffer block = ByteBuffer.allocate(BLOCK_RUNS * Format.RUN_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    private long read;
    private long first;
    private long count;
    private long previousEnd;
    private long pages;

    private RunTable(FileInput in, Location at, long ramPages, long runCount, long tableOffset, long dataBytes,
            CRC32C crc) {
        this.in = in;
        this.at = at;
        this.ramPages = ramPages;
        this.runCount = runCount;
        this.tableOffset = tableOffset;
        this.dataBytes = dataBytes;
        this.crc = crc;
        block.limit(0);
    }

    /** Reads and checks the run count; {@code crc}, if not null, is fed the count and table bytes as they are read. */
    static RunTable open(FileInput in, SectionInfo ram, long ramPages, CRC32C crc)
            throws IOException, SnapshotFormatException {
        Location at = in.location(ram);
        long payload = ram.offset() + Format.FRAME_HEADER_BYTES;
        if (ram.payloadLength() < Long.BYTES) {
            throw at.fail(FormatCheck.RAM_RUNS, "a payload of " + ram.payloadLength() + " bytes cannot hold the run count");
        }
        ByteBuffer countBytes = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        in.readFully(countBytes, payload, at);
        if (crc != null) {
            crc.update(countBytes.flip());
        }
        long runCount = countBytes.getLong(0);
        if (Long.compareUnsigned(runCount, ramPages) > 0) {
            throw at.fail(FormatCheck.RAM_RUNS, "run count " + Long.toUnsignedString(runCount) + " exceeds the "
                    + ramPages + " pages of RAM");
        }
        long tableBytes = runCount * Format.RUN_BYTES;
        if (tableBytes > ram.payloadLength() - Long.BYTES) {
            throw at.fail(FormatCheck.RAM_RUNS, "a table of " + runCount + " runs takes " + tableBytes
                    + " bytes, the payload has " + (ram.payloadLength() - Long.BYTES) + " after the run count");
        }
        return new RunTable(in, at, ramPages, runCount, payload + Long.BYTES, ram.payloadLength() - Long.BYTES - tableBytes, crc);
    }

    /** Moves to the next run and checks it; false after the last. */
    boolean next() throws IOException, SnapshotFormatException {
        if (read == runCount) {
            return false;
        }
        if (!block.hasRemaining()) {
            int n = (int) Math.min(BLOCK_RUNS, runCount - read) * Format.RUN_BYTES;
            block.clear().limit(n);
            in.readFully(block, tableOffset + read * Format.RUN_BYTES, at);
            block.flip();
            if (crc != null) {
                crc.update(block.duplicate());
            }
        }
        first = block.getLong();
        count = block.getLong();
        if (count == 0) {
            throw at.fail(FormatCheck.RAM_RUNS, "run " + read + " is empty");
        }
        if (Long.compareUnsigned(first, previousEnd) < 0) {
            throw at.fail(FormatCheck.RAM_RUNS, "run " + read + " starts at page " + first + ", before the end of run "
                    + (read - 1) + " at page " + previousEnd + ": runs must be sorted and must not overlap");
        }
        if (Long.compareUnsigned(first, ramPages) >= 0 || Long.compareUnsigned(count, ramPages - first) > 0) {
            throw at.fail(FormatCheck.RAM_RUNS, "run " + read + " (" + Long.toUnsignedString(count) + " pages from page "
                    + Long.toUnsignedString(first) + ") ends past the " + ramPages + " pages of RAM");
        }
        previousEnd = first + count;
        pages += count;
        read++;
        return true;
    }

    /** Walks the whole table, checking every run, then {@link #finish()}. */
    void checkAll() throws IOException, SnapshotFormatException {
        while (next()) {
            // next() checks the run; nothing else to do with it here
        }
        finish();
    }

    /** After the last run: the runs' pages must be exactly the payload's page bytes. */
    void finish() throws SnapshotFormatException {
        if (pages * Format.PAGE_SIZE != dataBytes) {
            throw at.fail(FormatCheck.RAM_RUNS, "the runs hold " + pages + " pages (" + pages * Format.PAGE_SIZE
                    + " bytes), the payload has " + dataBytes + " bytes of page data");
        }
    }

    long firstPage() {
        return first;
    }

    long pageCount() {
        return count;
    }

    long runCount() {
        return runCount;
    }

    /** Pages of the runs walked so far (all of them after {@link #finish()}). */
    long pages() {
        return pages;
    }

    /** File offset of the first page's bytes. */
    long dataOffset() {
        return tableOffset + runCount * Format.RUN_BYTES;
    }
}

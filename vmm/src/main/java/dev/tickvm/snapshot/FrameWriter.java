package dev.tickvm.snapshot;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Writes a snapshot file front to back: the preamble, then framed sections, each followed by the
 * CRC32C of its frame header and payload, then END with the section count and the digest of all
 * section CRCs. Everything passes through one 4 MiB native staging buffer, written with one
 * channel write when full; a section's CRC is updated over staged bytes in large blocks, and RAM
 * is copied into the stage straight from guest memory with the overrides applied on the copy, so
 * RAM is never held twice.
 */
final class FrameWriter implements AutoCloseable {
    private static final int STAGE_BYTES = 4 << 20;

    private final FileChannel channel;
    private final long total;
    private final Progress progress;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment stage = arena.allocate(STAGE_BYTES, Format.PAGE_SIZE);
    private final ByteBuffer stageBuffer = stage.asByteBuffer();
    private final CRC32C frameCrc = new CRC32C();
    private final CRC32C digest = new CRC32C();
    private final ByteBuffer crcBytes = ByteBuffer.allocate(Format.CRC_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    /** Bytes already written to the channel; the stage holds what follows. */
    private long flushed;
    private int fill;
    /** Stage offset from which staged bytes are not in {@link #frameCrc} yet; -1 outside a frame. */
    private int crcFrom = -1;
    private long frameEnd;
    private int sections;

    /** {@code total}: the file size the caller computed, for progress and a final check. */
    FrameWriter(FileChannel channel, long total, Progress progress) {
        this.channel = channel;
        this.total = total;
        this.progress = progress;
    }

    void preamble(FormatVersion version) throws IOException {
        putBytes(Format.MAGIC);
        putShort(version.major());
        putShort(version.minor());
        CRC32C crc = new CRC32C();
        crc.update(stageBuffer.slice(fill - 12, 12));
        putInt((int) crc.getValue());
    }

    /** A whole section whose payload is in memory. */
    void section(SectionType type, int index, byte[] payload) throws IOException {
        begin(type, index, payload.length);
        putBytes(payload);
        end();
    }

    /** Starts a section of {@code length} payload bytes: the caller puts exactly that many, then calls {@link #end()}. */
    void begin(SectionType type, int index, long length) throws IOException {
        room(Format.FRAME_HEADER_BYTES);
        frameCrc.reset();
        crcFrom = fill;
        frameEnd = position() + Format.FRAME_HEADER_BYTES + length;
        putShort(type.id());
        putShort(0);
        putInt(index);
        putLong(length);
    }

    void end() throws IOException {
        if (position() != frameEnd) {
            throw new IllegalStateException("section declared to end at " + frameEnd + ", ended at " + position());
        }
        updateCrc();
        crcFrom = -1;
        int crc = (int) frameCrc.getValue();
        crcBytes.clear();
        digest.update(crcBytes.putInt(crc).flip());
        sections++;
        putInt(crc);
    }

    /** The END section, then the last flush. */
    void finish() throws IOException {
        int count = sections;
        int sectionsDigest = (int) digest.getValue();
        begin(SectionType.END, 0, 8);
        putInt(count);
        putInt(sectionsDigest);
        end();
        flush();
        if (flushed != total) {
            throw new IllegalStateException("wrote " + flushed + " bytes, expected " + total);
        }
    }

    void putShort(int v) throws IOException {
        room(2);
        stage.set(Format.LE_SHORT, fill, (short) v);
        fill += 2;
    }

    void putInt(int v) throws IOException {
        room(4);
        stage.set(Format.LE_INT, fill, v);
        fill += 4;
    }

    void putLong(long v) throws IOException {
        room(8);
        stage.set(Format.LE_LONG, fill, v);
        fill += 8;
    }

    void putBytes(byte[] bytes) throws IOException {
        putSegment(MemorySegment.ofArray(bytes), 0, bytes.length, List.of());
    }

    /** Guest RAM [address, address + length), with the overrides that fall in it. */
    void putRam(MemorySegment ram, long address, long length, List<ByteOverride> sortedOverrides) throws IOException {
        putSegment(ram, address, length, sortedOverrides);
    }

    private void putSegment(MemorySegment source, long from, long length, List<ByteOverride> overrides)
            throws IOException {
        long done = 0;
        while (done < length) {
            if (fill == STAGE_BYTES) {
                flush();
            }
            int n = (int) Math.min(length - done, STAGE_BYTES - fill);
            MemorySegment.copy(source, from + done, stage, fill, n);
            if (!overrides.isEmpty()) {
                ByteOverride.apply(overrides, from + done, stage, fill, n);
            }
            fill += n;
            done += n;
        }
    }

    private long position() {
        return flushed + fill;
    }

    private void room(int n) throws IOException {
        if (STAGE_BYTES - fill < n) {
            flush();
        }
    }

    private void updateCrc() {
        if (crcFrom >= 0 && fill > crcFrom) {
            frameCrc.update(stageBuffer.slice(crcFrom, fill - crcFrom));
        }
        if (crcFrom >= 0) {
            crcFrom = fill;
        }
    }

    private void flush() throws IOException {
        updateCrc();
        ByteBuffer out = stageBuffer.slice(0, fill);
        while (out.hasRemaining()) {
            channel.write(out);
        }
        flushed += fill;
        fill = 0;
        if (crcFrom >= 0) {
            crcFrom = 0;
        }
        progress.update(flushed, total);
    }

    @Override
    public void close() {
        arena.close();
    }
}

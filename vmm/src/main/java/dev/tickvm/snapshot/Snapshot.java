package dev.tickvm.snapshot;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * A snapshot file: a whole VM saved to one file, restored later by another process, maybe on
 * another host. This class is the file layer only: it stores a header, guest RAM and opaque
 * component sections and gives them back intact, or says exactly what is wrong. What goes into
 * the VCPU, KVM_* and DEVICES sections is their owners' business (docs/SNAPSHOT.md).
 *
 * <ul>
 * <li>{@link #save} writes a file atomically: a process killed at any moment leaves the previous
 *     snapshot in place, intact.
 * <li>{@link #open} validates the whole file (every length, limit and CRC, which sections are
 *     there) before it returns; then {@link #header()}, {@link #section} and {@link #readRam}
 *     hand out the content. Anything wrong is a {@link SnapshotFormatException} naming the
 *     section and the check; a refused read is a {@link SnapshotIoException}. Nothing else escapes.
 * <li>{@link #inspect} reports on any file, damaged or not, without throwing for its content.
 * </ul>
 */
public final class Snapshot implements AutoCloseable {
    /** RAM is read and checked in blocks of this size, a progress report after each. */
    private static final int RAM_BLOCK = 8 << 20;

    private final FileInput in;
    private final FileScanner.Layout layout;

    private Snapshot(FileInput in, FileScanner.Layout layout) {
        this.in = in;
        this.layout = layout;
    }

    /** {@link #save(Path, SnapshotContents, Progress)} without progress reports. */
    public static SaveResult save(Path target, SnapshotContents contents) throws SnapshotIoException {
        return save(target, contents, Progress.NONE);
    }

    /**
     * Writes {@code contents} to {@code target}, replacing any file there atomically. Guest RAM is
     * read while this runs, so the VM must be stopped; pages that are zero (with the overrides
     * applied) are not stored.
     */
    public static SaveResult save(Path target, SnapshotContents contents, Progress progress)
            throws SnapshotIoException {
        RamLayout ram = RamLayout.scan(contents.ram(), contents.ramOverrides());
        byte[] header = HeaderCodec.encode(contents.header());
        long total = Format.PREAMBLE_BYTES + Format.MIN_FRAME_BYTES + header.length
                + Format.MIN_FRAME_BYTES + ram.payloadLength() + Format.MIN_FRAME_BYTES + 8;
        for (Section s : contents.sections()) {
            total += Format.MIN_FRAME_BYTES + s.bytes().length;
        }
        long size = total;
        boolean synced = AtomicSave.replace(target, channel -> {
            try (FrameWriter out = new FrameWriter(channel, size, progress)) {
                out.preamble(FormatVersion.CURRENT);
                out.section(SectionType.HEADER, 0, header);
                for (Section s : contents.sections()) {
                    out.section(s.type(), s.index(), s.bytes());
                }
                // RAM last: the small sections sit together at the front, where a partial copy still shows them.
                out.begin(SectionType.RAM, 0, ram.payloadLength());
                ram.writePayload(out, contents.ram(), contents.ramOverrides());
                out.end();
                out.finish();
            }
        });
        return new SaveResult(total, ram.pages(), ram.runCount(), synced);
    }

    /** Opens and validates a snapshot; nothing in it has been used until this returns. */
    public static Snapshot open(Path path) throws SnapshotException {
        FileInput in = openInput(path);
        boolean ok = false;
        try {
            Snapshot snapshot = new Snapshot(in, FileScanner.validate(in));
            ok = true;
            return snapshot;
        } finally {
            if (!ok) {
                closeQuietly(in.channel);
            }
        }
    }

    /**
     * What is in a file and what is wrong with it, for {@code tickvm inspect}: reads every section
     * (and checks every CRC) it can reach. Throws only when the file cannot be read at all.
     */
    public static SnapshotReport inspect(Path path) throws SnapshotIoException {
        FileInput in = openInput(path);
        try {
            return FileScanner.inspect(in);
        } finally {
            closeQuietly(in.channel);
        }
    }

    public FormatVersion version() {
        return layout.version();
    }

    public SnapshotHeader header() {
        return layout.header();
    }

    /** Every section, in file order (unknown optional ones included). */
    public List<SectionInfo> sections() {
        return layout.sections();
    }

    public RamSummary ram() {
        return layout.ram();
    }

    /**
     * A component section's payload, read and checked against its CRC again, or empty if the file
     * has none of that type and index. HEADER, RAM and END have their own accessors.
     */
    public Optional<SectionReader> section(SectionType type, int index) throws SnapshotException {
        if (type == SectionType.HEADER || type == SectionType.RAM || type == SectionType.END) {
            throw new IllegalArgumentException(type + " is not a component section");
        }
        for (SectionInfo s : layout.sections()) {
            if (s.type() == type && s.index() == index) {
                try {
                    return Optional.of(in.payload(s, layout.version()));
                } catch (IOException e) {
                    throw new SnapshotIoException(in.file, "cannot read " + s.label() + " at offset " + s.offset(), e);
                }
            }
        }
        return Optional.empty();
    }

    /** Guest RAM in a new page-aligned segment of {@code arena} (zeroed by the allocation, then the stored pages filled in). */
    public MemorySegment readRam(Arena arena, Progress progress) throws SnapshotException {
        MemorySegment ram = arena.allocate(layout.header().ramSize(), Format.PAGE_SIZE);
        readRamInto(ram, progress);
        return ram;
    }

    /**
     * Fills the stored pages of {@code zeroed}, which must be the header's RAM size and all zero
     * (freshly allocated): pages not stored are not written. The bytes go straight from the file
     * into the segment; their CRC is checked again on the way, so a file changed since
     * {@link #open} is caught (the segment's content is then undefined).
     */
    public void readRamInto(MemorySegment zeroed, Progress progress) throws SnapshotException {
        if (zeroed.byteSize() != layout.header().ramSize()) {
            throw new IllegalArgumentException("target is " + zeroed.byteSize() + " bytes, the snapshot's RAM is "
                    + layout.header().ramSize());
        }
        SectionInfo s = layout.ramSection();
        try {
            decodeRam(s, zeroed, progress);
        } catch (IOException e) {
            throw new SnapshotIoException(in.file, "cannot read RAM at offset " + s.offset(), e);
        }
    }

    /**
     * Two walks of the run table: the first feeds the CRC in file order (frame header, run count,
     * table) and checks the runs again; the second, in step with the page bytes, says where each
     * run goes.
     */
    private void decodeRam(SectionInfo s, MemorySegment target, Progress progress)
            throws IOException, SnapshotFormatException {
        Location at = in.location(s);
        long ramPages = target.byteSize() / Format.PAGE_SIZE;
        CRC32C crc = new CRC32C();
        ByteBuffer frame = ByteBuffer.allocate(Format.FRAME_HEADER_BYTES);
        in.readFully(frame, s.offset(), at);
        crc.update(frame.flip());
        RunTable check = RunTable.open(in, s, ramPages, crc);
        check.checkAll();
        long total = check.pages() * Format.PAGE_SIZE;
        long done = 0;
        long filePosition = check.dataOffset();
        RunTable runs = RunTable.open(in, s, ramPages, null);
        while (runs.next()) {
            long address = runs.firstPage() * Format.PAGE_SIZE;
            long length = runs.pageCount() * Format.PAGE_SIZE;
            for (long off = 0; off < length; off += RAM_BLOCK) {
                MemorySegment block = target.asSlice(address + off, Math.min(RAM_BLOCK, length - off));
                in.readFully(block.asByteBuffer(), filePosition, at);
                crc.update(block.asByteBuffer());
                filePosition += block.byteSize();
                done += block.byteSize();
                progress.update(done, total);
            }
        }
        ByteBuffer stored = ByteBuffer.allocate(Format.CRC_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        in.readFully(stored, filePosition, at);
        if (stored.getInt(0) != (int) crc.getValue() || stored.getInt(0) != (int) s.storedCrc()) {
            throw at.fail(FormatCheck.CRC, "CRC32C mismatch (stored " + Format.hex32(stored.getInt(0)) + ", computed "
                    + Format.hex32((int) crc.getValue()) + "): the file changed after it was opened");
        }
        if (total == 0) {
            progress.update(0, 0);
        }
    }

    @Override
    public void close() {
        closeQuietly(in.channel);
    }

    private static FileInput openInput(Path path) throws SnapshotIoException {
        String file = path.toString();
        if (java.nio.file.Files.exists(path) && !java.nio.file.Files.isRegularFile(path)) {
            // A directory failed only at the first read ("Is a directory"), and a FIFO would block the open.
            throw new SnapshotIoException(file, "not a regular file (" + FileKinds.describe(path) + ")");
        }
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new SnapshotIoException(file, "cannot open for reading", e);
        }
        try {
            return new FileInput(channel, file, channel.size());
        } catch (IOException e) {
            closeQuietly(channel);
            throw new SnapshotIoException(file, "cannot read its size", e);
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // Read-only: nothing was left unwritten.
        }
    }
}

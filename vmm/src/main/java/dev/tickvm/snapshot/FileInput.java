package dev.tickvm.snapshot;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.zip.CRC32C;

/**
 * Positional reads from an open snapshot, where the file ending early is a format error
 * ({@code truncated}), not an I/O one. Shared by the scanner, section reads and the RAM decoder.
 */
final class FileInput {
    final FileChannel channel;
    final String file;
    final long size;

    FileInput(FileChannel channel, String file, long size) {
        this.channel = channel;
        this.file = file;
        this.size = size;
    }

    Location location(SectionInfo s) {
        return location(s.typeId(), s.index(), s.offset());
    }

    /** "section VCPU 2" at its offset. */
    Location location(int typeId, long index, long offset) {
        return new Location(file, "section " + SectionInfo.label(typeId, index), offset);
    }

    /** Fills {@code dst} from {@code position}. */
    void readFully(ByteBuffer dst, long position, Location at) throws IOException, SnapshotFormatException {
        long p = position;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, p);
            if (n < 0) {
                throw at.fail(FormatCheck.TRUNCATED, "the file ends at offset " + p + ", inside this section"
                        + (p < size ? " (it shrank after it was opened)" : ""));
            }
            p += n;
        }
    }

    /**
     * A component, HEADER or END section's payload, read whole and checked again against its CRC
     * and the frame the scan found (a file changed since is caught here, not misread).
     */
    SectionReader payload(SectionInfo s, FormatVersion version) throws IOException, SnapshotFormatException {
        if (s.payloadLength() > Format.MAX_COMPONENT_PAYLOAD) {
            throw new IllegalStateException(s.label() + " is not read whole");
        }
        Location at = location(s);
        int length = (int) s.payloadLength();
        ByteBuffer frame = ByteBuffer.allocate(Format.MIN_FRAME_BYTES + length).order(ByteOrder.LITTLE_ENDIAN);
        readFully(frame, s.offset(), at);
        CRC32C crc = new CRC32C();
        crc.update(frame.array(), 0, Format.FRAME_HEADER_BYTES + length);
        int stored = frame.getInt(Format.FRAME_HEADER_BYTES + length);
        boolean sameFrame = (frame.getShort(0) & 0xffff) == s.typeId() && (frame.getShort(2) & 0xffff) == s.flags()
                && Integer.toUnsignedLong(frame.getInt(4)) == s.index() && frame.getLong(8) == s.payloadLength();
        if (!sameFrame || stored != (int) crc.getValue()) {
            throw at.fail(FormatCheck.CRC, "CRC32C mismatch (stored " + Format.hex32(stored) + ", computed "
                    + Format.hex32((int) crc.getValue()) + ")" + (sameFrame ? "" : ": the frame changed after the file was opened"));
        }
        return new SectionReader(frame.slice(Format.FRAME_HEADER_BYTES, length), file, at.where(), s.offset(),
                version.newerMinorThanCurrent());
    }
}

package dev.tickvm.snapshot;

/**
 * Where a section sits in a file and whether its CRC held: one row of {@code tickvm inspect}.
 *
 * @param typeId        the u16 type id on the wire
 * @param name          "RAM", "VCPU"..., or "type 0x7777" for an id this tickvm does not know
 * @param index         the vCPU id for per-vCPU types, else 0 (as stored, unsigned)
 * @param flags         the u16 flags (bit 0: optional)
 * @param offset        file offset of the section's frame
 * @param payloadLength payload bytes (the frame adds 16 before and 4 after)
 * @param storedCrc     the CRC32C stored after the payload (unsigned)
 * @param crc           whether it matched
 */
public record SectionInfo(int typeId, String name, long index, int flags, long offset, long payloadLength,
        long storedCrc, CrcStatus crc) {

    /** The type, or null for an id this tickvm does not know. */
    public SectionType type() {
        return SectionType.byId(typeId);
    }

    public boolean optional() {
        return (flags & Format.FLAG_OPTIONAL) != 0;
    }

    /** File offset just past this section's CRC. */
    public long end() {
        return offset + Format.MIN_FRAME_BYTES + payloadLength;
    }

    /** "RAM", "VCPU 2", "type 0x7777": as messages name it. */
    String label() {
        return label(typeId, index);
    }

    /** The name of a type id: the type's, or "type 0x7777" for one this tickvm does not know. */
    static String name(int typeId) {
        SectionType t = SectionType.byId(typeId);
        return t != null ? t.name() : String.format("type 0x%04x", typeId);
    }

    static String label(int typeId, long index) {
        SectionType t = SectionType.byId(typeId);
        return t != null ? t.label(index) : name(typeId);
    }
}

package dev.tickvm.snapshot;

import java.util.Locale;

/**
 * Which validation rule a snapshot file broke. Each has a short label that error messages and
 * {@code tickvm inspect} show, e.g. {@code crc}; docs/SNAPSHOT.md lists when each applies.
 */
public enum FormatCheck {
    /** The file does not start with "TICKVMSN". */
    MAGIC,
    /** A major version this tickvm does not read. */
    VERSION,
    /** A stored CRC32C (of the preamble or of a section) does not match the bytes. */
    CRC,
    /** The file ends inside the preamble or a section. */
    TRUNCATED,
    /** A declared length is above the limit for its section type. */
    LENGTH,
    /** More sections than the format allows, or not as many as the END section counted. */
    SECTION_COUNT,
    /** HEADER is not the first section. */
    ORDER,
    /** Reserved flag bits are set. */
    FLAGS,
    /** A section type this tickvm does not know, not marked optional. */
    UNKNOWN_SECTION,
    /** A section's vCPU index is out of range, or set on a section that is not per vCPU. */
    INDEX,
    /** A section that may appear once appears again. */
    DUPLICATE_SECTION,
    /** A mandatory section (HEADER, RAM, a VCPU, END) is absent. */
    MISSING_SECTION,
    /** The END section's digest of all section CRCs does not match: sections were removed, added or reordered. */
    DIGEST,
    /** Bytes follow the END section. */
    TRAILING_DATA,
    /** A payload ends before the fields its reader expects. */
    UNDERFLOW,
    /** A payload has bytes after its last field, and the file is not from a newer minor version. */
    TRAILING_BYTES,
    /** A string is longer than its limit or is not valid UTF-8. */
    STRING,
    /** A count in a payload is above its limit. */
    COUNT,
    /** The header's vCPU count is outside 1-64. */
    VCPU_COUNT,
    /** The header's RAM size is not a multiple of 4 KiB up to 64 GiB. */
    RAM_SIZE,
    /** The RAM section's page runs are out of range, overlap, are unsorted or do not match its length. */
    RAM_RUNS,
    /** Any other field value that its reader rejects. */
    VALUE;

    /** The label in messages: the name in lower case, words joined by '-'. */
    public String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}

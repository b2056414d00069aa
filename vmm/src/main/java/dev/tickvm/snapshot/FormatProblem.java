package dev.tickvm.snapshot;

import java.util.Objects;

/**
 * One thing wrong with a snapshot file: where (a section, the preamble, or the file as a whole),
 * which check failed, and the details. {@link SnapshotFormatException} carries one;
 * {@link Snapshot#inspect} lists all it finds.
 *
 * @param where  "preamble", "section RAM", "section VCPU 2", "section type 0x7777", or null for
 *               the file as a whole (a missing section)
 * @param offset file offset of the preamble or section, or -1 with no {@code where}
 * @param check  the rule that failed
 * @param detail what was found, with the numbers
 */
public record FormatProblem(String where, long offset, FormatCheck check, String detail) {
    public FormatProblem {
        Objects.requireNonNull(check, "check");
        Objects.requireNonNull(detail, "detail");
    }

    /** E.g. "snapshot.tvm: section RAM at offset 4096: crc: CRC32C mismatch (stored 0x..., computed 0x...)". */
    public String describe(String file) {
        StringBuilder s = new StringBuilder(file).append(": ");
        if (where != null) {
            s.append(where);
            if (offset >= 0) {
                s.append(" at offset ").append(offset);
            }
            s.append(": ");
        }
        return s.append(check.label()).append(": ").append(detail).toString();
    }
}

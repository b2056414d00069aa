package dev.tickvm.snapshot;

/**
 * A snapshot file (or a section payload) is damaged, truncated, from an unsupported version, or
 * breaks one of the format's rules. The message names the file, the section and its offset, and
 * the check, e.g. {@code snapshot.tvm: section RAM at offset 4096: crc: CRC32C mismatch (stored
 * 0x1c2d3e4f, computed 0x5a6b7c8d)}.
 */
public final class SnapshotFormatException extends SnapshotException {
    private final FormatProblem problem;

    SnapshotFormatException(String file, FormatProblem problem) {
        super(file, problem.describe(file), null);
        this.problem = problem;
    }

    public FormatProblem problem() {
        return problem;
    }

    public FormatCheck check() {
        return problem.check();
    }

    /** "section RAM", "preamble"..., or null for the file as a whole. */
    public String where() {
        return problem.where();
    }

    /** File offset of {@link #where()}, or -1. */
    public long offset() {
        return problem.offset();
    }
}

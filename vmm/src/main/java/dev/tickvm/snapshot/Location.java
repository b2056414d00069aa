package dev.tickvm.snapshot;

/** Where a check runs, for its error: the file, the section ("section RAM") and its offset. */
record Location(String file, String where, long offset) {
    SnapshotFormatException fail(FormatCheck check, String detail) {
        return new SnapshotFormatException(file, new FormatProblem(where, offset, check, detail));
    }
}

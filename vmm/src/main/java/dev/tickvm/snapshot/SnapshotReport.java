package dev.tickvm.snapshot;

import java.util.List;

/**
 * What {@link Snapshot#inspect} found in a file, damaged or not: everything it could read, and
 * every problem it could tell apart. Made for {@code tickvm inspect FILE [--json]}: plain
 * records, lists and strings.
 *
 * @param file     the path, as given
 * @param fileSize bytes
 * @param version  the format version, or null when the preamble is unreadable
 * @param header   the header, or null when its section is missing or damaged
 * @param sections every section walked, in file order (the walk stops where lengths stop making sense)
 * @param ram      the RAM section's summary, or null when it is missing or damaged
 * @param problems every problem found, in file order; empty when {@link Snapshot#open} would accept the file
 */
public record SnapshotReport(String file, long fileSize, FormatVersion version, SnapshotHeader header,
        List<SectionInfo> sections, RamSummary ram, List<FormatProblem> problems) {

    public SnapshotReport {
        sections = List.copyOf(sections);
        problems = List.copyOf(problems);
    }

    public boolean valid() {
        return problems.isEmpty();
    }
}

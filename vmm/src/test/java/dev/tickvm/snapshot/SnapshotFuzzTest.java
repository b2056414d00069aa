package dev.tickvm.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fuzz target for the snapshot loader: any file is either opened (and then its sections and RAM
 * read back) or refused with a {@link SnapshotException}, never any other exception; and
 * {@link Snapshot#inspect} agrees on whether it is valid without throwing. Plain ./test replays
 * the inputs in SnapshotFuzzTestInputs/ (a valid file from {@link Forge#validFile} among them);
 * JAZZER_FUZZ=1 fuzzes (docs/TESTING.md).
 */
class SnapshotFuzzTest {
    /** RAM sizes above this are not read back (the header may claim anything the format allows). */
    private static final long MAX_RAM_READ = 64L << 20;
    private static final Path FILE;

    static {
        try {
            Path dir = Files.createTempDirectory("tickvm-snapshot-fuzz");
            dir.toFile().deleteOnExit();
            FILE = dir.resolve("fuzz.tvm");
            FILE.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = "60s")
    void openLoadsOrThrowsASnapshotException(byte[] bytes) throws IOException {
        Files.write(FILE, bytes);
        boolean opened;
        try (Snapshot s = Snapshot.open(FILE)) {
            for (SectionInfo info : s.sections()) {
                SectionType type = info.type();
                if (type != null && type != SectionType.HEADER && type != SectionType.RAM && type != SectionType.END) {
                    s.section(type, (int) info.index());
                }
            }
            if (s.header().ramSize() <= MAX_RAM_READ) {
                try (Arena arena = Arena.ofConfined()) {
                    s.readRam(arena, Progress.NONE);
                }
            }
            opened = true;
        } catch (SnapshotException e) {
            opened = false;
        }
        SnapshotReport report;
        try {
            report = Snapshot.inspect(FILE);
        } catch (SnapshotIoException e) {
            throw new AssertionError("inspect could not read a readable file", e);
        }
        assertEquals(opened, report.valid(), () -> "open and inspect disagree: " + report.problems());
    }
}

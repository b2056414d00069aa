package dev.tickvm.snapshot;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Snapshot contents that say which generation they are, everywhere: the header's true time, the
 * component sections, and RAM, whose pages are random from a seed made of the generation and the
 * page, except every fourth page (zero, from a shifting start) so that runs differ too. Shared by
 * the child that saves ({@link SaveLoop}) and the test that checks what survived a kill.
 */
final class Generations {
    static final long RAM_SIZE = 16L << 20;
    static final int VCPUS = 2;

    private Generations() {
    }

    static void fill(MemorySegment ram, long generation) {
        long pages = ram.byteSize() / Fixtures.PAGE;
        for (long p = 0; p < pages; p++) {
            MemorySegment page = ram.asSlice(p * Fixtures.PAGE, Fixtures.PAGE);
            if ((p + generation) % 4 == 0) {
                page.fill((byte) 0);
                continue;
            }
            SplittableRandom random = new SplittableRandom(generation * 1_000_003L + p);
            for (long at = 0; at < Fixtures.PAGE; at += 8) {
                page.set(ValueLayout.JAVA_LONG_UNALIGNED, at, random.nextLong());
            }
        }
    }

    static SnapshotContents contents(MemorySegment ram, long generation) {
        return new SnapshotContents(Fixtures.header(VCPUS, ram.byteSize(), generation), ram, List.of(),
                Fixtures.sections(VCPUS, generation));
    }
}

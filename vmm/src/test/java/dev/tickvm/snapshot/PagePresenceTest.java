package dev.tickvm.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.tickvm.memory.GuestMemory;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A save reads only the RAM pages the kernel ever gave memory to, and finds the same runs of
 * non-zero pages as a scan of every page.
 */
class PagePresenceTest {
    private static final int PAGE = 4096;

    private static List<Long> setPages(long[] bits, long pages) {
        List<Long> set = new ArrayList<>();
        for (long p = PagePresence.nextSet(bits, 0, pages); p < pages; p = PagePresence.nextSet(bits, p + 1, pages)) {
            set.add(p);
        }
        return set;
    }

    @Test
    void onlyTouchedPagesArePopulated() {
        try (GuestMemory memory = new GuestMemory(64L << 20)) {
            memory.writeByte(3L * PAGE + 17, (byte) 1);
            memory.writeByte(1000L * PAGE, (byte) 2);
            memory.writeByte(16383L * PAGE + 4095, (byte) 3);
            long[] bits = PagePresence.populated(memory.segment());
            assertNotNull(bits, "Linux has /proc/self/pagemap");
            assertEquals(List.of(3L, 1000L, 16383L), setPages(bits, 16384));
        }
    }

    @Test
    void heapMemoryIsNotLookedUp() {
        assertNull(PagePresence.populated(MemorySegment.ofArray(new byte[2 * PAGE])));
    }

    @Test
    void setAndClearBitsAreFoundAcrossWords() {
        long[] bits = new long[3];
        bits[1] = 1L << 5 | 1L << 63;
        bits[2] = 1L;
        assertEquals(69, PagePresence.nextSet(bits, 0, 192));
        assertEquals(127, PagePresence.nextSet(bits, 70, 192));
        assertEquals(128, PagePresence.nextSet(bits, 128, 192));
        assertEquals(100, PagePresence.nextSet(bits, 70, 100));
        assertEquals(70, PagePresence.nextClear(bits, 69, 192));
        assertEquals(129, PagePresence.nextClear(bits, 127, 192));
        assertEquals(0, PagePresence.nextClear(bits, 0, 192));
    }

    /** Random writes, some of them zeros over zeros: the layout is that of a scan of every page. */
    @Test
    void theLayoutIsTheSameAsWhenEveryPageIsRead() {
        SplittableRandom random = new SplittableRandom(11);
        try (GuestMemory memory = new GuestMemory(16L << 20)) {
            for (int i = 0; i < 300; i++) {
                long page = random.nextLong(4096);
                memory.writeByte(page * PAGE + random.nextInt(PAGE), (byte) (i % 3 == 0 ? 0 : 1 + random.nextInt(255)));
            }
            byte[] copy = memory.read(0, (int) memory.size());
            RamLayout fast = RamLayout.scan(memory.segment(), List.of());
            RamLayout full = RamLayout.scan(MemorySegment.ofArray(copy), List.of());
            assertEquals(full.pages(), fast.pages());
            assertEquals(full.runCount(), fast.runCount());
            assertEquals(full.payloadLength(), fast.payloadLength());
        }
    }
}

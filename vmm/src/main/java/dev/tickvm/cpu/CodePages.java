package dev.tickvm.cpu;

import dev.tickvm.memory.GuestMemory;
import dev.tickvm.unicorn.Engine;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The guest pages one vCPU's engine has run code from, with what they held when that vCPU last
 * ran: how an engine comes to see code that another vCPU, or the VMM, wrote (issue 11.2).
 *
 * <p>Every vCPU has its own Unicorn engine over the one guest RAM. An engine notices stores to
 * code it translated only when it makes them itself (QEMU's self-modifying-code check); a store by
 * another engine, or by the VMM through the shared mapping, leaves its translation stale, and it
 * would run the old code for ever. The vCPUs run in turns on one thread, so nothing can change
 * guest memory while a vCPU runs except that vCPU; the fix is to look when its turn starts:
 * <ul>
 *   <li>the block hook records each page a block covers ({@link BlockState}: one compare when
 *       the block is on the page of the one before);</li>
 *   <li>when a turn ends, the pages seen for the first time are copied ({@link #afterTurn});</li>
 *   <li>when the next turn starts, each page is compared with its copy, and the translations of
 *       every 64-byte chunk that differs are dropped, then the copy updated ({@link #beforeTurn}).</li>
 * </ul>
 * So a vCPU sees another's code from its next turn on, exactly as its memory reads do. A byte
 * written next to code (data on a code page) drops no translation of that code: the chunks are
 * small, and a translation is only dropped if it covers a changed byte. The cost is a compare of
 * each code page per turn, about 0.1 us a page.
 *
 * <p>Bounded: past {@link #MAX_PAGES} pages (4 MiB of code) a vCPU keeps no copies; it drops every
 * translation at the start of each turn instead, which is correct and slow, and starts over.
 */
final class CodePages {
    static final int PAGE_SHIFT = 12;
    private static final int PAGE = 1 << PAGE_SHIFT;
    /** Pages a vCPU keeps copies of; a hostile guest can run code on every page of its RAM. */
    static final int MAX_PAGES = 1024;
    /** What one difference drops translations over, at least. */
    private static final int CHUNK = 64;

    private final GuestMemory memory;
    /** Where the block hook records pages: a bitmap of RAM pages and a list of new ones. */
    private final BlockState blocks;
    private long[] pages = new long[16];
    /** Heap segments over each page's copy, made once rather than on every turn's compare. */
    private MemorySegment[] copies = new MemorySegment[16];
    private int count;
    private boolean overflowed;
    /** Pages whose chunks were found changed, and translations dropped (for tests). */
    private long invalidations;
    private long flushes;

    CodePages(GuestMemory memory, BlockState blocks) {
        this.memory = memory;
        this.blocks = blocks;
    }

    /** The turn is over: copies the pages first seen in it, as they are now. */
    void afterTurn() {
        if (!blocks.takeFresh(this::copy)) {
            overflowed = true;
        }
    }

    private void copy(long page) {
        if (count == MAX_PAGES) {
            overflowed = true;
            return;
        }
        if (count == pages.length) {
            pages = Arrays.copyOf(pages, count * 2);
            copies = Arrays.copyOf(copies, count * 2);
        }
        pages[count] = page;
        copies[count] = MemorySegment.ofArray(memory.read(page << PAGE_SHIFT, PAGE));
        count++;
    }

    /** A turn starts: drops the translations of code changed since this vCPU's last turn. */
    void beforeTurn(Engine engine) {
        if (overflowed) {
            engine.flushTranslationCache();
            flushes++;
            blocks.forgetPages();
            Arrays.fill(copies, 0, count, null);
            count = 0;
            overflowed = false;
            return;
        }
        MemorySegment ram = memory.segment();
        for (int i = 0; i < count; i++) {
            long base = pages[i] << PAGE_SHIFT;
            MemorySegment now = ram.asSlice(base, PAGE);
            MemorySegment copy = copies[i];
            long at = copy.mismatch(now);
            if (at < 0) {
                continue;
            }
            invalidations++;
            while (at >= 0) {
                // The run of changed chunks from here: a chunk that compares equal ends it.
                long from = at & -CHUNK;
                long to = Math.min(PAGE, from + CHUNK);
                while (to < PAGE && MemorySegment.mismatch(copy, to, to + CHUNK, now, to, to + CHUNK) >= 0) {
                    to += CHUNK;
                }
                engine.invalidateTranslations(base + from, base + to);
                MemorySegment.copy(now, from, copy, from, to - from);
                long next = to < PAGE ? MemorySegment.mismatch(copy, to, PAGE, now, to, PAGE) : -1;
                at = next < 0 ? -1 : to + next;
            }
        }
    }

    /**
     * This vCPU's engine already dropped its translations of [address, address + length), which
     * the VMM rewrote for it (a patched or repaired trap site): takes the bytes into the copy, so
     * the next turn does not count them as another's change.
     */
    void rewritten(long address, int length) {
        for (int i = 0; i < count; i++) {
            long base = pages[i] << PAGE_SHIFT;
            long from = Math.max(address, base);
            long to = Math.min(address + length, base + PAGE);
            if (from < to) {
                MemorySegment.copy(memory.segment(), from, copies[i], from - base, to - from);
            }
        }
    }

    /** Code pages found changed at a turn's start so far. */
    long invalidations() {
        return invalidations;
    }

    /** Times every translation was dropped because the vCPU ran code on too many pages. */
    long flushes() {
        return flushes;
    }

    /** Pages with a copy kept. */
    int pages() {
        return count;
    }
}

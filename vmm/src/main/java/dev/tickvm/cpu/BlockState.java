package dev.tickvm.cpu;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.tickvm.unicorn.Engine;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.LongConsumer;

/**
 * What a vCPU does at the start of every translated block, and the state it does it on, kept
 * off the Java heap so that the native hook ({@link NativeBlockHook}) can do it without an upcall:
 * <ol>
 *   <li>record the block's pages as code ({@link CodePages});</li>
 *   <li>stop the engine, before the block runs, when an I/O hook asked for the VMM or the turn's
 *       quantum (which the scheduler cuts to the budget) is used up;</li>
 *   <li>count the block (the virtual clock is charged from the count, between runs), remember
 *       it (SYSENTER is found from it), and write its address into the crash record.</li>
 * </ol>
 * {@link #onBlock} is the same in Java, the fallback: the offsets below are the struct in
 * {@code block_hook.S}, and the two must be changed together.
 */
final class BlockState implements AutoCloseable {
    static final long BLOCKS = 0;
    static final long STOP_AT = 8;
    static final long BLOCK_ADDRESS = 16;
    static final long BLOCK_SIZE = 24;
    static final long STOP_REQUESTED = 28;
    static final long STOPPED = 32;
    static final long VCPU = 36;
    static final long UC_EMU_STOP = 40;
    static final long CRASH_RECORD = 48;
    static final long LAST_PAGE = 56;
    static final long RECORDED = 64;
    static final long RAM_PAGES = 72;
    static final long FRESH = 80;
    static final long FRESH_COUNT = 88;
    static final long FRESH_CAP = 92;
    static final long FRESH_OVERFLOW = 96;
    private static final long SIZE = 104;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment state;
    private final MemorySegment recorded;
    private final MemorySegment fresh;
    private final long ramPages;
    private final int freshCap;
    private final MemorySegment crashRecord;
    private final BlockHookKind kind;
    private Engine engine;

    /**
     * @param ramBytes guest RAM, whose pages the code-page bitmap covers
     * @param freshCap pages the hook can list as first seen between two {@link #takeFresh} calls
     */
    BlockState(int vcpu, long ramBytes, int freshCap, BlockHookKind kind) {
        this.kind = kind;
        this.ramPages = ramBytes >>> CodePages.PAGE_SHIFT;
        this.freshCap = freshCap;
        this.state = arena.allocate(SIZE, 64);
        this.recorded = arena.allocate(((ramPages + 63) >>> 6) * 8, 64);
        this.fresh = arena.allocate(8L * freshCap, 64);
        this.crashRecord = CrashRecord.segment();
        state.set(JAVA_INT, VCPU, vcpu);
        state.set(JAVA_LONG, LAST_PAGE, -1L);
        state.set(JAVA_LONG, RECORDED, recorded.address());
        state.set(JAVA_LONG, RAM_PAGES, ramPages);
        state.set(JAVA_LONG, FRESH, fresh.address());
        state.set(JAVA_INT, FRESH_CAP, freshCap);
        state.set(JAVA_LONG, CRASH_RECORD, crashRecord == null ? 0 : crashRecord.address());
    }

    /** Installs the hook on {@code engine}: the native one or the Java one, as chosen. */
    void install(Engine engine) {
        this.engine = engine;
        if (kind == BlockHookKind.NATIVE) {
            state.set(JAVA_LONG, UC_EMU_STOP, engine.unicorn().emuStopFunction().address());
            engine.onBlockNative(NativeBlockHook.function(), state);
        } else {
            engine.onBlock(this::onBlock);
        }
    }

    BlockHookKind kind() {
        return kind;
    }

    /** The Java hook: block_hook.S, step for step. */
    private void onBlock(long address, int size) {
        long page = address >>> CodePages.PAGE_SHIFT;
        long last = (address + Math.max(Integer.toUnsignedLong(size), 1) - 1) >>> CodePages.PAGE_SHIFT;
        if (page != state.get(JAVA_LONG, LAST_PAGE) || last != page) {
            recordPage(page);
            if (last != page) {
                recordPage(last);
            }
            state.set(JAVA_LONG, LAST_PAGE, last == page ? page : -1L);
        }
        long blocks = state.get(JAVA_LONG, BLOCKS);
        if (state.get(JAVA_INT, STOP_REQUESTED) != 0 || Long.compareUnsigned(blocks, state.get(JAVA_LONG, STOP_AT)) >= 0) {
            state.set(JAVA_INT, STOPPED, 1);
            engine.stop();
            return;
        }
        state.set(JAVA_LONG, BLOCKS, blocks + 1);
        state.set(JAVA_LONG, BLOCK_ADDRESS, address);
        state.set(JAVA_INT, BLOCK_SIZE, size);
        if (crashRecord != null) {
            CrashRecord.resume(state.get(JAVA_INT, VCPU), address);
        }
    }

    private void recordPage(long page) {
        if (Long.compareUnsigned(page, ramPages) >= 0) {
            return;
        }
        long offset = (page >>> 6) * 8;
        long word = recorded.get(JAVA_LONG, offset);
        long bit = 1L << page;
        if ((word & bit) != 0) {
            return;
        }
        recorded.set(JAVA_LONG, offset, word | bit);
        int count = state.get(JAVA_INT, FRESH_COUNT);
        if (count < freshCap) {
            fresh.setAtIndex(JAVA_LONG, count, page);
            state.set(JAVA_INT, FRESH_COUNT, count + 1);
        } else {
            state.set(JAVA_INT, FRESH_OVERFLOW, 1);
        }
    }

    // ---- what the VMM reads and sets between runs --------------------------------------------

    /** Blocks run so far. */
    long blocks() {
        return state.get(JAVA_LONG, BLOCKS);
    }

    /** Lets the next run go on until {@link #blocks()} reaches {@code blocks}. */
    void stopAt(long blocks) {
        state.set(JAVA_LONG, STOP_AT, blocks);
    }

    /** Stops the engine at the next block (from an I/O hook that cannot stop it itself). */
    void requestStop() {
        state.set(JAVA_INT, STOP_REQUESTED, 1);
    }

    /**
     * After a run: whether the hook stopped it (quantum used up, or asked to), clearing that and
     * any stop request.
     */
    boolean takeStopped() {
        boolean stopped = state.get(JAVA_INT, STOPPED) != 0;
        state.set(JAVA_INT, STOPPED, 0);
        state.set(JAVA_INT, STOP_REQUESTED, 0);
        return stopped;
    }

    long blockAddress() {
        return state.get(JAVA_LONG, BLOCK_ADDRESS);
    }

    int blockSize() {
        return state.get(JAVA_INT, BLOCK_SIZE);
    }

    /**
     * Hands the pages first seen since the last call to {@code sink}, and empties the list.
     * Returns false, and lists nothing, if more were seen than the list holds.
     */
    boolean takeFresh(LongConsumer sink) {
        int count = state.get(JAVA_INT, FRESH_COUNT);
        boolean overflow = state.get(JAVA_INT, FRESH_OVERFLOW) != 0;
        state.set(JAVA_INT, FRESH_COUNT, 0);
        state.set(JAVA_INT, FRESH_OVERFLOW, 0);
        if (overflow) {
            return false;
        }
        for (int i = 0; i < count; i++) {
            sink.accept(fresh.getAtIndex(JAVA_LONG, i));
        }
        return true;
    }

    /** Forgets every recorded page: they are recorded again, and listed, when next run. */
    void forgetPages() {
        recorded.fill((byte) 0);
        state.set(JAVA_LONG, LAST_PAGE, -1L);
        state.set(JAVA_INT, FRESH_COUNT, 0);
        state.set(JAVA_INT, FRESH_OVERFLOW, 0);
    }

    /** Frees the state; only after the engine that calls the hook is closed. */
    @Override
    public void close() {
        arena.close();
    }
}

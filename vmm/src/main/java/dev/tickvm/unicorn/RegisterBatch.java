package dev.tickvm.unicorn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A fixed list of registers moved with one uc_reg_read_batch / uc_reg_write_batch call, for the
 * trap path where one native call instead of four matters. Values are indexed in the order given.
 */
public final class RegisterBatch {
    private final Engine engine;
    private final List<X86Register> registers;
    private final MemorySegment ids;
    private final MemorySegment pointers;
    private final MemorySegment values;

    RegisterBatch(Engine engine, Arena arena, X86Register... registers) {
        this.engine = engine;
        this.registers = List.of(registers);
        int n = registers.length;
        ids = arena.allocate(JAVA_INT, n);
        pointers = arena.allocate(ADDRESS, n);
        values = arena.allocate(JAVA_LONG, n);
        for (int i = 0; i < n; i++) {
            ids.setAtIndex(JAVA_INT, i, registers[i].id);
            pointers.setAtIndex(ADDRESS, i, values.asSlice(i * 8L, 8));
        }
    }

    /** Reads every register of the batch from the engine. */
    public RegisterBatch read() {
        engine.readBatch(ids, pointers, values, registers.size());
        return this;
    }

    /** Writes every register of the batch to the engine. */
    public void write() {
        engine.writeBatch(ids, pointers, registers.size());
    }

    public long get(int index) {
        return values.getAtIndex(JAVA_LONG, index);
    }

    public void set(int index, long value) {
        values.setAtIndex(JAVA_LONG, index, value);
    }

    public List<X86Register> registers() {
        return registers;
    }
}

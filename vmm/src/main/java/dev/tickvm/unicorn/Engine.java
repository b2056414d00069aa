package dev.tickvm.unicorn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Objects;

/**
 * One Unicorn x86-64 engine (one uc_engine). Not thread-safe: an engine is driven by one thread
 * at a time, and every hook runs on the thread that called {@link #start}.
 *
 * <p>Native memory (scratch buffers, upcall stubs) lives in an arena that this object owns and
 * closes after uc_close, so no stub can be called after it is freed.
 *
 * <p>Every hook upcall catches whatever the Java hook throws, records it, and stops the engine:
 * an exception escaping an upcall would kill the JVM. {@link #start} then rethrows it.
 */
public final class Engine implements AutoCloseable {
    private static final int HOOK_INTR = 1;
    private static final int HOOK_INSN = 1 << 1;
    private static final int HOOK_BLOCK = 1 << 3;
    private static final int HOOK_MEM_UNMAPPED = 0x70;
    /** UC_HOOK_MEM_READ_PROT | UC_HOOK_MEM_WRITE_PROT | UC_HOOK_MEM_FETCH_PROT. */
    private static final int HOOK_MEM_PROT = 0x380;
    private static final int INSN_IN = 218;
    private static final int INSN_OUT = 500;
    private static final int INSN_CPUID = 113;
    private static final int INSN_SYSCALL = 699;
    private static final int INSN_SYSENTER = 700;
    private static final int REG_FP0 = 82;
    private static final int REG_XMM0 = 122;
    private static final int REG_MSR = 248;
    private static final int MMR_SIZE = 24;
    private static final int CTL_IO_WRITE = 1;
    private static final int CTL_CPU_MODEL = 7;
    private static final int CTL_TB_REMOVE_CACHE = 9;
    private static final int CTL_TB_FLUSH = 10;
    private static final int CTL_TCG_BUFFER_SIZE = 13;

    private static final MethodHandle ON_INTERRUPT;
    private static final MethodHandle ON_BLOCK;
    private static final MethodHandle ON_IN;
    private static final MethodHandle ON_OUT;
    private static final MethodHandle ON_CPUID;
    private static final MethodHandle ON_SYSCALL;
    private static final MethodHandle ON_SYSENTER;
    private static final MethodHandle ON_UNMAPPED;

    static {
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        try {
            ON_INTERRUPT = lookup.findVirtual(Upcalls.class, "interrupt",
                    MethodType.methodType(void.class, MemorySegment.class, int.class, MemorySegment.class));
            ON_BLOCK = lookup.findVirtual(Upcalls.class, "block",
                    MethodType.methodType(void.class, MemorySegment.class, long.class, int.class, MemorySegment.class));
            ON_IN = lookup.findVirtual(Upcalls.class, "in",
                    MethodType.methodType(int.class, MemorySegment.class, int.class, int.class, MemorySegment.class));
            ON_OUT = lookup.findVirtual(Upcalls.class, "out", MethodType.methodType(void.class, MemorySegment.class,
                    int.class, int.class, int.class, MemorySegment.class));
            ON_CPUID = lookup.findVirtual(Upcalls.class, "cpuid",
                    MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class));
            ON_SYSCALL = lookup.findVirtual(Upcalls.class, "syscall",
                    MethodType.methodType(void.class, MemorySegment.class, MemorySegment.class));
            ON_SYSENTER = lookup.findVirtual(Upcalls.class, "sysenter",
                    MethodType.methodType(void.class, MemorySegment.class, MemorySegment.class));
            ON_UNMAPPED = lookup.findVirtual(Upcalls.class, "unmapped", MethodType.methodType(boolean.class,
                    MemorySegment.class, int.class, long.class, int.class, long.class, MemorySegment.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Unicorn unicorn;
    private final Arena arena;
    private final MemorySegment handle;
    private final MemorySegment scratch;
    private final MemorySegment hookHandle;
    private final Upcalls upcalls = new Upcalls();
    private Throwable hookFailure;
    private boolean closed;

    Engine(Unicorn unicorn) {
        this.unicorn = unicorn;
        this.arena = Arena.ofShared();
        try {
            MemorySegment out = arena.allocate(ADDRESS);
            unicorn.check("uc_open(X86, MODE_64)", (int) unicorn.ucOpen.invokeExact(Unicorn.ARCH_X86, Unicorn.MODE_64, out));
            this.handle = out.get(ADDRESS, 0);
            this.scratch = arena.allocate(64, 16);
            this.hookHandle = arena.allocate(JAVA_LONG);
        } catch (UnicornException e) {
            arena.close();
            throw e;
        } catch (Throwable t) {
            arena.close();
            throw new UnicornException("uc_open failed", t);
        }
    }

    public Unicorn unicorn() {
        return unicorn;
    }

    // ---- registers -------------------------------------------------------------------------

    public long read(X86Register register) {
        // Narrow registers (selectors, FPCW, MXCSR) write only 2 or 4 bytes: clear the slot first.
        scratch.set(JAVA_LONG, 0, 0L);
        readScratch(register.id, register);
        return scratch.get(JAVA_LONG, 0);
    }

    public void write(X86Register register, long value) {
        scratch.set(JAVA_LONG, 0, value);
        writeScratch(register.id, register);
    }

    /** x87 physical register R{@code index} (0-7, FP0-FP7); ST(i) is R((TOP + i) mod 8). */
    public Float80 readX87(int index) {
        int id = REG_FP0 + Objects.checkIndex(index, 8);
        scratch.asSlice(0, 16).fill((byte) 0);
        readScratch(id, "FP" + index);
        return new Float80(scratch.get(JAVA_LONG, 0), Short.toUnsignedInt(scratch.get(JAVA_SHORT, 8)));
    }

    /** Writes x87 physical register R{@code index}; the tag word is written separately (FPTAG). */
    public void writeX87(int index, Float80 value) {
        int id = REG_FP0 + Objects.checkIndex(index, 8);
        scratch.set(JAVA_LONG, 0, value.significand());
        scratch.set(JAVA_SHORT, 8, (short) value.signExponent());
        writeScratch(id, "FP" + index);
    }

    /** XMM{@code index} (0-15). */
    public Vector128 readXmm(int index) {
        int id = REG_XMM0 + Objects.checkIndex(index, 16);
        scratch.asSlice(0, 16).fill((byte) 0);
        readScratch(id, "XMM" + index);
        return new Vector128(scratch.get(JAVA_LONG, 0), scratch.get(JAVA_LONG, 8));
    }

    public void writeXmm(int index, Vector128 value) {
        int id = REG_XMM0 + Objects.checkIndex(index, 16);
        scratch.set(JAVA_LONG, 0, value.low());
        scratch.set(JAVA_LONG, 8, value.high());
        writeScratch(id, "XMM" + index);
    }

    /**
     * An MSR as the emulated CPU holds it (uc_x86_msr: u32 index, pad, u64 value). Unicorn runs
     * its RDMSR emulation: an MSR it does not know reads 0, with no error.
     */
    public long readMsr(int index) {
        scratch.asSlice(0, 16).fill((byte) 0);
        scratch.set(JAVA_INT, 0, index);
        readScratch(REG_MSR, msrName(index));
        return scratch.get(JAVA_LONG, 8);
    }

    /** Unicorn runs its WRMSR emulation: a write to an MSR it does not know is dropped, with no error. */
    public void writeMsr(int index, long value) {
        scratch.asSlice(0, 16).fill((byte) 0);
        scratch.set(JAVA_INT, 0, index);
        scratch.set(JAVA_LONG, 8, value);
        writeScratch(REG_MSR, msrName(index));
    }

    private static String msrName(int index) {
        return String.format("MSR 0x%x", index & 0xffff_ffffL);
    }

    /** GDTR, IDTR, LDTR or TR (uc_x86_mmr: u16 selector, pad, u64 base, u32 limit, u32 flags). */
    public SegmentDescriptorRegister read(DescriptorRegister register) {
        // GDTR and IDTR fill in only base and limit.
        scratch.asSlice(0, MMR_SIZE).fill((byte) 0);
        readScratch(register.id, register);
        return new SegmentDescriptorRegister(Short.toUnsignedInt(scratch.get(JAVA_SHORT, 0)), scratch.get(JAVA_LONG, 8),
                scratch.get(JAVA_INT, 16), scratch.get(JAVA_INT, 20));
    }

    public void write(DescriptorRegister register, SegmentDescriptorRegister value) {
        scratch.asSlice(0, MMR_SIZE).fill((byte) 0);
        scratch.set(JAVA_SHORT, 0, (short) value.selector());
        scratch.set(JAVA_LONG, 8, value.base());
        scratch.set(JAVA_INT, 16, value.limit());
        scratch.set(JAVA_INT, 20, value.flags());
        writeScratch(register.id, register);
    }

    /** uc_reg_read of register {@code id} into the scratch buffer; {@code what} names it in errors. */
    private void readScratch(int id, Object what) {
        int code;
        try {
            code = (int) unicorn.ucRegRead.invokeExact(handle, id, scratch);
        } catch (Throwable t) {
            throw new UnicornException("uc_reg_read failed", t);
        }
        if (code != 0) {
            unicorn.check("uc_reg_read(" + what + ")", code);
        }
    }

    private void writeScratch(int id, Object what) {
        int code;
        try {
            code = (int) unicorn.ucRegWrite.invokeExact(handle, id, scratch);
        } catch (Throwable t) {
            throw new UnicornException("uc_reg_write failed", t);
        }
        if (code != 0) {
            unicorn.check("uc_reg_write(" + what + ")", code);
        }
    }

    /** A reusable batch of registers read or written with one native call each way. */
    public RegisterBatch batch(X86Register... registers) {
        return new RegisterBatch(this, arena, registers);
    }

    void readBatch(MemorySegment ids, MemorySegment pointers, MemorySegment values, int count) {
        values.fill((byte) 0);
        try {
            unicorn.check("uc_reg_read_batch", (int) unicorn.ucRegReadBatch.invokeExact(handle, ids, pointers, count));
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new UnicornException("uc_reg_read_batch failed", t);
        }
    }

    void writeBatch(MemorySegment ids, MemorySegment pointers, int count) {
        try {
            unicorn.check("uc_reg_write_batch", (int) unicorn.ucRegWriteBatch.invokeExact(handle, ids, pointers, count));
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new UnicornException("uc_reg_write_batch failed", t);
        }
    }

    // ---- memory ----------------------------------------------------------------------------

    /**
     * Maps host memory into the guest-physical address space, read/write/execute. The segment
     * must stay alive as long as this engine (several engines may map the same segment).
     */
    public void mapHostMemory(long guestAddress, MemorySegment memory) {
        mapHostMemory(guestAddress, memory, PROT_ALL);
    }

    /** UC_PROT_READ: the guest may read (the CPU's own descriptor and stack reads included). */
    public static final int PROT_READ = 1;
    /** UC_PROT_WRITE. */
    public static final int PROT_WRITE = 2;
    /** UC_PROT_EXEC. */
    public static final int PROT_EXEC = 4;
    /** Read, write and execute. */
    public static final int PROT_ALL = PROT_READ | PROT_WRITE | PROT_EXEC;

    /**
     * Maps host memory with Unicorn permissions {@code perms} (PROT_*). Unicorn checks them on
     * every guest access whatever the CPL, and stops with READ_PROT, WRITE_PROT or FETCH_PROT;
     * the host's own writes to the segment are unaffected. Address and size must be 4 KiB-aligned.
     */
    public void mapHostMemory(long guestAddress, MemorySegment memory, int perms) {
        try {
            unicorn.check("uc_mem_map_ptr(0x" + Long.toHexString(guestAddress) + ", " + memory.byteSize() + ")",
                    (int) unicorn.ucMemMapPtr.invokeExact(handle, guestAddress, memory.byteSize(), perms, memory));
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new UnicornException("uc_mem_map_ptr failed", t);
        }
    }

    /** Reads guest memory through Unicorn (its own view, including any mapping). */
    public byte[] readMemory(long guestAddress, int length) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(Math.max(1, length));
            unicorn.check("uc_mem_read(0x" + Long.toHexString(guestAddress) + ")",
                    (int) unicorn.ucMemRead.invokeExact(handle, guestAddress, buf, (long) length));
            return buf.asSlice(0, length).toArray(JAVA_BYTE);
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new UnicornException("uc_mem_read failed", t);
        }
    }

    /** Writes guest memory through Unicorn. */
    public void writeMemory(long guestAddress, byte[] data) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(Math.max(1, data.length));
            MemorySegment.copy(data, 0, buf, JAVA_BYTE, 0, data.length);
            unicorn.check("uc_mem_write(0x" + Long.toHexString(guestAddress) + ")",
                    (int) unicorn.ucMemWrite.invokeExact(handle, guestAddress, buf, (long) data.length));
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new UnicornException("uc_mem_write failed", t);
        }
    }

    // ---- control ---------------------------------------------------------------------------

    /** Selects the CPU model; must be called before the first instruction runs. */
    public void setCpuModel(CpuModel model) {
        try {
            unicorn.check("uc_ctl(CPU_MODEL, " + model + ")",
                    (int) unicorn.ucCtlIntArg.invokeExact(handle, ctlWrite(CTL_CPU_MODEL, 1), model.id));
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new UnicornException("uc_ctl(CPU_MODEL) failed", t);
        }
    }

    /**
     * Sets the size of the buffer Unicorn translates guest code into (its default is 1 GiB);
     * must be called before the first instruction runs. Only tests use it, to fill the buffer
     * quickly (see Vcpu's translation flushes).
     */
    public void setTranslationBufferSize(int bytes) {
        try {
            unicorn.check("uc_ctl(TCG_BUFFER_SIZE, " + bytes + ")",
                    (int) unicorn.ucCtlIntArg.invokeExact(handle, ctlWrite(CTL_TCG_BUFFER_SIZE, 1), bytes));
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new UnicornException("uc_ctl(TCG_BUFFER_SIZE) failed", t);
        }
    }

    /** Drops every translated block, e.g. after guest code was rewritten behind this engine's back. */
    public void flushTranslationCache() {
        try {
            unicorn.check("uc_ctl(TB_FLUSH)", (int) unicorn.ucCtlNoArg.invokeExact(handle, ctlWrite(CTL_TB_FLUSH, 0)));
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new UnicornException("uc_ctl(TB_FLUSH) failed", t);
        }
    }

    /** Drops the translated blocks that cover [begin, end), after the VMM rewrote guest code there. */
    public void invalidateTranslations(long begin, long end) {
        try {
            unicorn.check("uc_ctl(TB_REMOVE_CACHE)",
                    (int) unicorn.ucCtlTwoLongArgs.invokeExact(handle, ctlWrite(CTL_TB_REMOVE_CACHE, 2), begin, end));
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new UnicornException("uc_ctl(TB_REMOVE_CACHE) failed", t);
        }
    }

    private static int ctlWrite(int type, int argCount) {
        return type | argCount << 26 | CTL_IO_WRITE << 30;
    }

    /**
     * Runs from {@code begin} until a hook stops the engine or the CPU cannot go on. Never passes
     * an until address, timeout or count: each of those makes every start microseconds slower.
     *
     * @return OK when stopped (by a hook, or silently by Unicorn after a fault; see cpu.Vcpu),
     *         otherwise the error that ended emulation (unmapped access, invalid instruction, ...)
     * @throws UnicornException if a Java hook threw; the engine was stopped at that point
     */
    public UnicornError start(long begin) {
        return start(begin, 0);
    }

    /**
     * Runs from {@code begin} until RIP reaches {@code until}, a hook stops the engine or the CPU
     * cannot go on. A real until address makes each start microseconds slower: for set-up code.
     */
    public UnicornError start(long begin, long until) {
        int code;
        try {
            code = (int) unicorn.ucEmuStart.invokeExact(handle, begin, until, 0L, 0L);
        } catch (Throwable t) {
            throw new UnicornException("uc_emu_start failed", t);
        }
        Throwable failure = hookFailure;
        if (failure != null) {
            hookFailure = null;
            throw new UnicornException("a hook failed: " + failure, failure);
        }
        return UnicornError.of(code);
    }

    /** Asks the engine to stop at the next block boundary; safe to call from a hook. */
    public void stop() {
        try {
            int ignored = (int) unicorn.ucEmuStop.invokeExact(handle);
        } catch (Throwable t) {
            throw new UnicornException("uc_emu_stop failed", t);
        }
    }

    // ---- hooks -----------------------------------------------------------------------------

    public void onInterrupt(InterruptHook hook) {
        once(upcalls.interrupt, "an interrupt");
        upcalls.interrupt = hook;
        addHook(HOOK_INTR, ON_INTERRUPT, FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, ADDRESS), 0);
    }

    public void onBlock(BlockHook hook) {
        once(upcalls.block, "a block");
        upcalls.block = hook;
        addHook(HOOK_BLOCK, ON_BLOCK, FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS), 0);
    }

    /**
     * A block hook that is native code: {@code function} is a C function
     * {@code void (uc_engine *, uint64_t address, uint32_t size, void *userData)} that Unicorn
     * calls before each translated block, with no upcall into the JVM. {@code userData} must
     * stay allocated until this engine is closed. Instead of {@link #onBlock}, not with it.
     */
    public void onBlockNative(MemorySegment function, MemorySegment userData) {
        once(upcalls.block, "a block");
        upcalls.block = (address, size) -> {
        };
        addHook(HOOK_BLOCK, function, userData, 0);
    }

    public void onPortIn(PortInHook hook) {
        once(upcalls.in, "a port-in");
        upcalls.in = hook;
        addHook(HOOK_INSN, ON_IN, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS), INSN_IN);
    }

    public void onPortOut(PortOutHook hook) {
        once(upcalls.out, "a port-out");
        upcalls.out = hook;
        addHook(HOOK_INSN, ON_OUT, FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), INSN_OUT);
    }

    public void onCpuid(CpuidHook hook) {
        once(upcalls.cpuid, "a CPUID");
        upcalls.cpuid = hook;
        addHook(HOOK_INSN, ON_CPUID, FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), INSN_CPUID);
    }

    /** SYSCALL, which Unicorn would otherwise skip as a no-op; RIP is at it during the hook. */
    public void onSyscall(SyscallHook hook) {
        once(upcalls.syscall, "a SYSCALL");
        upcalls.syscall = hook;
        addHook(HOOK_INSN, ON_SYSCALL, FunctionDescriptor.ofVoid(ADDRESS, ADDRESS), INSN_SYSCALL);
    }

    /**
     * SYSENTER, which Unicorn would otherwise run even with SYSENTER_CS 0. Measured: RIP during
     * this hook is the start of the translated block, not the SYSENTER; SYSENTER ends its block,
     * so it is the block's last two bytes.
     */
    public void onSysenter(SyscallHook hook) {
        once(upcalls.sysenter, "a SYSENTER");
        upcalls.sysenter = hook;
        addHook(HOOK_INSN, ON_SYSENTER, FunctionDescriptor.ofVoid(ADDRESS, ADDRESS), INSN_SYSENTER);
    }

    /**
     * The hook only observes: Unicorn then stops with the matching *_UNMAPPED error. It also sees
     * accesses refused by a mapping's permissions, after which Unicorn stops with *_PROT.
     */
    public void onUnmappedAccess(UnmappedAccessHook hook) {
        once(upcalls.unmapped, "an unmapped-access");
        upcalls.unmapped = hook;
        addHook(HOOK_MEM_UNMAPPED | HOOK_MEM_PROT, ON_UNMAPPED,
                FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS), 0);
    }

    private static void once(Object existing, String what) {
        if (existing != null) {
            throw new IllegalStateException("this engine already has " + what + " hook");
        }
    }

    private void addHook(int type, MethodHandle target, FunctionDescriptor descriptor, int instruction) {
        // Stubs live in this engine's arena, which is closed only after uc_close.
        MemorySegment stub = Linker.nativeLinker().upcallStub(target.bindTo(upcalls), descriptor, arena);
        addHook(type, stub, MemorySegment.NULL, instruction);
    }

    private void addHook(int type, MemorySegment callback, MemorySegment userData, int instruction) {
        try {
            // begin 1 > end 0: the hook covers every address.
            unicorn.check("uc_hook_add(type " + type + ")", (int) unicorn.ucHookAdd.invokeExact(handle, hookHandle, type,
                    callback, userData, 1L, 0L, instruction));
        } catch (UnicornException e) {
            throw e;
        } catch (Throwable t) {
            throw new UnicornException("uc_hook_add failed", t);
        }
    }

    /** Receives the native callbacks; each catches everything, records it and stops the engine. */
    private final class Upcalls {
        InterruptHook interrupt;
        BlockHook block;
        PortInHook in;
        PortOutHook out;
        CpuidHook cpuid;
        SyscallHook syscall;
        SyscallHook sysenter;
        UnmappedAccessHook unmapped;

        void interrupt(MemorySegment uc, int vector, MemorySegment user) {
            try {
                interrupt.onInterrupt(vector);
            } catch (Throwable t) {
                fail(t);
            }
        }

        void block(MemorySegment uc, long address, int size, MemorySegment user) {
            try {
                block.onBlock(address, size);
            } catch (Throwable t) {
                fail(t);
            }
        }

        int in(MemorySegment uc, int port, int size, MemorySegment user) {
            try {
                return in.onIn(port, size);
            } catch (Throwable t) {
                fail(t);
                return 0;
            }
        }

        void out(MemorySegment uc, int port, int size, int value, MemorySegment user) {
            try {
                out.onOut(port, size, value);
            } catch (Throwable t) {
                fail(t);
            }
        }

        boolean unmapped(MemorySegment uc, int access, long address, int size, long value, MemorySegment user) {
            try {
                unmapped.onUnmapped(access, address, size);
            } catch (Throwable t) {
                fail(t);
            }
            return false;
        }

        void syscall(MemorySegment uc, MemorySegment user) {
            try {
                syscall.onSyscall();
            } catch (Throwable t) {
                fail(t);
            }
        }

        void sysenter(MemorySegment uc, MemorySegment user) {
            try {
                sysenter.onSyscall();
            } catch (Throwable t) {
                fail(t);
            }
        }

        int cpuid(MemorySegment uc, MemorySegment user) {
            try {
                return cpuid.onCpuid() ? 1 : 0;
            } catch (Throwable t) {
                fail(t);
                return 1;
            }
        }
    }

    private void fail(Throwable t) {
        if (hookFailure == null) {
            hookFailure = t;
        }
        try {
            stop();
        } catch (Throwable ignored) {
            // Already failing; the first failure is what matters.
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            int ignored = (int) unicorn.ucClose.invokeExact(handle);
        } catch (Throwable t) {
            throw new UnicornException("uc_close failed", t);
        } finally {
            arena.close();
        }
    }
}

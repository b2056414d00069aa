package dev.tickvm.cpu;

import dev.tickvm.bus.PortIoBus;
import dev.tickvm.host.HostClock;
import dev.tickvm.memory.GuestMemory;
import dev.tickvm.trace.TraceEvent;
import dev.tickvm.unicorn.CpuModel;
import dev.tickvm.unicorn.DescriptorRegister;
import dev.tickvm.unicorn.Engine;
import dev.tickvm.unicorn.RegisterBatch;
import dev.tickvm.unicorn.SegmentDescriptorRegister;
import dev.tickvm.unicorn.Unicorn;
import dev.tickvm.unicorn.UnicornError;
import dev.tickvm.unicorn.UnicornException;
import dev.tickvm.unicorn.X86Register;
import java.util.ArrayDeque;

/**
 * One virtual CPU: a Unicorn engine over the shared guest RAM, running its guest at CPL3 and
 * emulating the instructions that trap there (see {@link BootLayout}).
 *
 * <h2>Traps and Unicorn bug 1883</h2>
 * When a hooked exception is not delivered, Unicorn leaves its "previous exception" set, so the
 * second #GP is escalated to #DF and the third to a triple fault, which stops uc_emu_start
 * silently with RIP still at the instruction. tickvm's way through uses the public API only:
 * the interrupt hook just stops the engine on an exception, and a silent stop is treated the
 * same way. Either way RIP is at the faulting instruction; its bytes say whether it is a time
 * instruction to emulate or a real guest fault, and execution resumes after it. In
 * {@link TrapMode#PATCH} (the default) the site is then rewritten as {@code INT n}, which later
 * reaches the interrupt hook with no exception state involved and is emulated right there,
 * without stopping the engine ({@link PatchTable}). Nothing depends on Unicorn's internals, and
 * both paths stay correct if the bug is fixed. {@link TrapSelfTest} proves them on the loaded
 * library at start-up.
 *
 * <p>Not thread-safe: the scheduler runs every vCPU of a machine on one thread.
 */
public final class Vcpu implements AutoCloseable {
    private static final VcpuExit PREEMPTED = new VcpuExit.Preempted();
    private final int id;
    private final Engine engine;
    private final GuestMemory memory;
    private final PortIoBus bus;
    private final HostClock clock;
    private final TrapEmulator emulator;
    private final boolean stopInIoHook;
    /** RIP is the faulting access itself on a memory fault (2.1.4 on), not its block's start. */
    private final boolean exactFaultRip;
    private final RegisterBatch raxRdx;
    private final RegisterBatch raxRcxRdx;
    private final TrapMode mode;
    private final PatchTable patches;
    /** What this engine ran code from, to see code others wrote (see {@link CodePages}). */
    private final CodePages codePages;
    /** The per-block work: quantum, block count, code pages (native or Java hook). */
    private final BlockState blockState;

    private VcpuRunState runState;
    private long rip;
    /** The block count at the last flush of every translation (see {@link #FLUSH_INTERVAL_BLOCKS}). */
    private long flushedAtBlock;
    private long chargedBlocks;
    private long exits;
    private long chargedExits;
    private long traps;
    private long patchedTraps;
    /** Sites this vCPU patched: each took the slow fault path and a retranslation once. */
    private long newSites;
    private int vector;
    /** Where to run again after the interrupt hook repaired a patched site, or -1. */
    private long restartAt = -1;
    private final ArrayDeque<VcpuExit> exitQueue = new ArrayDeque<>();
    private boolean unmappedAccess;
    private long unmappedAddress;
    private int unmappedSize;

    /**
     * Creates the engine, maps guest RAM and prepares entry at {@code entry} in user mode, with
     * RDI = vCPU id, RSI = vCPU count, RDX = RAM size (the boot protocol of guest-images/README.md).
     * {@link BootLayout#writeShared} must have been called on the memory.
     */
    public Vcpu(int id, int vcpuCount, Unicorn unicorn, GuestMemory memory, PortIoBus bus, HostClock clock,
            TrapEmulator emulator, TrapMode mode, BlockHookKind hook, PatchTable patches, long entry) {
        this(id, unicorn, memory, bus, clock, emulator, mode, hook, patches, VcpuRunState.RUNNABLE, engine -> {
            engine.write(DescriptorRegister.GDTR,
                    SegmentDescriptorRegister.table(BootLayout.GDT_BASE, BootLayout.gdtLimit()));
            engine.write(X86Register.CR4, BootLayout.BOOT_CR4);
            engine.write(X86Register.RSP, BootLayout.writeBootFrame(memory, id, entry));
            engine.write(X86Register.RDI, id);
            engine.write(X86Register.RSI, vcpuCount);
            engine.write(X86Register.RDX, memory.size());
            return BootLayout.BOOT_STUB;
        });
    }

    /**
     * Builds a vCPU from a saved state, over guest memory that holds what it held when the state
     * was saved (with patched sites put back, see {@link PatchTable}). What a state does not
     * carry comes as arguments: the emulator (the kvm layer restores its own state), the bus,
     * the clock and the patch table.
     *
     * <p>The engine is then read back and must hold exactly the saved registers: a Unicorn that
     * cannot hold a value (e.g. 2.0.1, which offers no EFER.NXE) fails here rather than running
     * the guest on a different CPU state.
     *
     * @throws IllegalArgumentException if this Unicorn cannot enter or hold the saved state
     */
    public static Vcpu restore(int id, Unicorn unicorn, GuestMemory memory, PortIoBus bus, HostClock clock,
            TrapEmulator emulator, TrapMode mode, BlockHookKind hook, PatchTable patches, VcpuState state) {
        return new Vcpu(id, unicorn, memory, bus, clock, emulator, mode, hook, patches, state.runState(), engine -> {
            long rip = RegisterFile.load(engine, memory, id, state);
            String difference = RegisterFile.firstDifference(state, RegisterFile.save(engine, rip, state.runState()));
            if (difference != null) {
                throw new IllegalArgumentException("vCPU " + id + " cannot be restored on " + unicorn.describe() + ": "
                        + difference);
            }
            return rip;
        });
    }

    /** Puts a fresh engine (RAM mapped, no hooks yet) into the vCPU's first state; returns where it resumes. */
    @FunctionalInterface
    private interface Entry {
        long enter(Engine engine);
    }

    private Vcpu(int id, Unicorn unicorn, GuestMemory memory, PortIoBus bus, HostClock clock, TrapEmulator emulator,
            TrapMode mode, BlockHookKind hook, PatchTable patches, VcpuRunState runState, Entry entry) {
        if (id < 0 || id >= BootLayout.MAX_VCPUS) {
            throw new IllegalArgumentException("vCPU id " + id + " out of range 0.." + (BootLayout.MAX_VCPUS - 1));
        }
        this.id = id;
        this.memory = memory;
        this.bus = bus;
        this.clock = clock;
        this.emulator = emulator;
        this.mode = mode;
        this.patches = patches;
        this.blockState = new BlockState(id, memory.size(), CodePages.MAX_PAGES, hook);
        this.codePages = new CodePages(memory, blockState);
        this.runState = runState;
        // 2.0.1 re-runs the current block when stopped from an IN/OUT hook: defer to the next block.
        this.stopInIoHook = !unicorn.version().hasKnown201Defects();
        this.exactFaultRip = unicorn.version().syncsRipOnEveryStop();
        try {
            this.engine = unicorn.openX86_64();
        } catch (RuntimeException e) {
            blockState.close();
            throw e;
        }
        try {
            try {
                engine.setTranslationBufferSize(TRANSLATION_BUFFER_BYTES);
            } catch (UnicornException e) {
                // 2.0.x has no uc_ctl(TCG_BUFFER_SIZE): it keeps its own size.
            }
            engine.setCpuModel(CpuModel.HASWELL);
            BootLayout.mapGuestMemory(engine, memory);
            this.rip = entry.enter(engine);
            engine.onInterrupt(this::onException);
            blockState.install(engine);
            engine.onPortIn(this::onPortIn);
            engine.onPortOut(this::onPortOut);
            engine.onCpuid(this::onCpuid);
            engine.onSyscall(this::onSyscall);
            engine.onSysenter(this::onSysenter);
            engine.onUnmappedAccess(this::onUnmapped);
            raxRdx = engine.batch(X86Register.RAX, X86Register.RDX);
            raxRcxRdx = engine.batch(X86Register.RAX, X86Register.RCX, X86Register.RDX);
        } catch (RuntimeException e) {
            engine.close();
            blockState.close();
            throw e;
        }
    }

    public int id() {
        return id;
    }

    /** Where the vCPU resumes. */
    public long rip() {
        return rip;
    }

    /** Translated blocks executed so far. */
    public long blocks() {
        return blockState.blocks();
    }

    /** Which block hook this vCPU's engine calls. */
    public BlockHookKind blockHook() {
        return blockState.kind();
    }

    /** Time instructions trapped and emulated so far. */
    public long traps() {
        return traps;
    }

    /** Time instructions this vCPU found and patched for the first time. */
    public long newSites() {
        return newSites;
    }

    /** Turns that found code changed behind this engine (by another vCPU or the VMM) and dropped its translation. */
    public long staleCodeInvalidations() {
        return codePages.invalidations();
    }

    /**
     * Turns that began by dropping every translation, because this vCPU ran code on more pages
     * than {@link CodePages} keeps copies of.
     */
    public long staleCodeFlushes() {
        return codePages.flushes();
    }

    /** Of {@link #traps()}, those emulated through a patched INT n without stopping the engine. */
    public long patchedTraps() {
        return patchedTraps;
    }

    /** Direct register access for the VMM (tests, the probe). Snapshots use {@link #saveState}. */
    public Engine engine() {
        return engine;
    }

    /**
     * Runs the guest until something needs the VMM, or until {@code blockQuantum} more blocks
     * have run. Trapped time instructions are emulated here without returning. Exits that pile
     * up in one run (several flagged OUTs in one block) are returned one per call, in order,
     * before the guest runs again. A HLT or a fault changes the {@link #runState}.
     *
     * @throws IllegalStateException if the vCPU is halted or faulted
     */
    public VcpuExit run(long blockQuantum) {
        if (!runState.runnable()) {
            throw new IllegalStateException("vCPU " + id + " cannot run: " + runState);
        }
        VcpuExit exit = next(blockQuantum);
        if (emulator.tracing()) {
            String reason = switch (exit) {
                case VcpuExit.Preempted _ -> "preempted";
                case VcpuExit.Halted _ -> "hlt";
                case VcpuExit.IoOut o -> "io_out port=0x" + Integer.toHexString(o.port());
                case VcpuExit.Fault f -> "fault kind=" + f.kind();
            };
            emulator.trace(new TraceEvent.Exit(id, reason, rip));
        }
        switch (exit) {
            case VcpuExit.Halted h -> runState = runState instanceof VcpuRunState.WakePending
                    ? VcpuRunState.RUNNABLE : VcpuRunState.HALTED;
            case VcpuExit.Fault f -> runState = new VcpuRunState.Faulted(f);
            case VcpuExit.Preempted _, VcpuExit.IoOut _ -> {
            }
        }
        return exit;
    }

    /**
     * Whether the scheduler may run this vCPU: it leaves {@link VcpuRunState#RUNNABLE} by a HLT
     * or a fault, and comes back by {@link #wake}.
     */
    public VcpuRunState runState() {
        return runState;
    }

    /**
     * Makes a halted vCPU runnable again, as an interrupt would: it resumes after its HLT. A
     * vCPU that is not halted yet keeps the wake-up pending and its next HLT returns at once; a
     * faulted vCPU stays faulted.
     */
    public void wake() {
        runState = switch (runState) {
            case VcpuRunState.Halted h -> VcpuRunState.RUNNABLE;
            case VcpuRunState.Runnable r -> VcpuRunState.WAKE_PENDING;
            case VcpuRunState.WakePending w -> w;
            case VcpuRunState.Faulted f -> f;
        };
    }

    /**
     * Everything the guest can observe of this vCPU, for a snapshot ({@link VcpuState}). Call it
     * between turns, when {@link #run} has returned.
     *
     * <p>RIP is where the vCPU resumes, which is not always what the engine says: past a HLT it
     * halted on, say. A RIP inside the NOP padding of a patched site (an engine can stop there,
     * right after the INT n) is moved past the site, because a snapshot stores guest memory with
     * the original instruction put back, and resuming in its middle would run the wrong bytes.
     *
     * @throws IllegalStateException if exits from the last turn are still queued: run the vCPU
     *                               until they are all returned
     */
    public VcpuState saveState() {
        if (!exitQueue.isEmpty()) {
            throw new IllegalStateException("vCPU " + id + " has " + exitQueue.size()
                    + " queued exits the VMM has not seen; run it until they are returned, then save");
        }
        return RegisterFile.save(engine, resumeAddress(), runState);
    }

    /** {@link #rip}, or the end of the patched site whose padding it points into. */
    private long resumeAddress() {
        for (int back = 1; back < TrapDecoder.MAX_INSTRUCTION_LENGTH; back++) {
            PatchTable.Site site = patches.at(rip - back);
            if (site != null) {
                int length = site.original().length;
                return back < length ? site.address() + length : rip;
            }
        }
        return rip;
    }

    /** The next exit: a queued one, else what the guest does next. */
    private VcpuExit next(long blockQuantum) {
        if (!exitQueue.isEmpty()) {
            return exitQueue.poll();
        }
        blockState.stopAt(blockState.blocks() + Math.max(1, blockQuantum));
        emulator.beforeEntry();
        // After beforeEntry, whose writes (the kvmclock page) are guest memory too.
        codePages.beforeTurn(engine);
        VcpuExit exit = enterUntilExit();
        codePages.afterTurn();
        emulator.afterExit();
        return exit;
    }

    /**
     * Each engine's translation buffer: 64 MiB rather than Unicorn's 1 GiB. A flush (below) makes
     * Unicorn touch the whole buffer once, so with 1 GiB every vCPU that ran long enough for one
     * cost 1 GiB of RSS: the 20 vCPUs of tsc_scaling_sync at 2 s of guest time reached 21 GB
     * and spent most of their time in the kernel. 64 MiB bounds that at 64 MiB a vCPU.
     */
    private static final int DEFAULT_TRANSLATION_BUFFER_BYTES = 64 << 20;
    /** Tests may set another size: a smaller buffer fills, and so shows the crash below, sooner. */
    private static final int TRANSLATION_BUFFER_BYTES =
            Integer.getInteger("tickvm.test.translationBufferBytes", DEFAULT_TRANSLATION_BUFFER_BYTES);
    /**
     * Issue 11.3: when Unicorn's translation buffer fills mid-run it flushes every block from
     * inside its execution loop, and a block it then chains to another can be one the flush
     * dropped: SIGSEGV in tb_set_jmp_target (unicorn-engine/unicorn issues 1923 and 2048, open;
     * 2.1.1 to 2.1.4). A guest that rewrites its own code retranslates a block per iteration and
     * filled 1 GiB after about 4.5 million blocks (64 MiB: 270,000). So the vCPU flushes every
     * translation itself, between engine runs where no block is live, once both
     * {@link #FLUSH_INTERVAL_BLOCKS} blocks (1 KiB of buffer each) and {@link #FLUSH_INTERVAL_NANOS}
     * of its own running time (1.25 s per GiB of buffer: 800 MB of host code a second) have
     * passed since the last. Running time, not wall time: the vCPUs of a VM take turns on one
     * thread, and a vCPU's buffer fills only while it runs. A flush of 64 MiB costs a few ms,
     * hence the time bound: by blocks alone a fast guest would flush every few ms.
     */
    static final long FLUSH_INTERVAL_BLOCKS = TRANSLATION_BUFFER_BYTES / 1024;
    static final long FLUSH_INTERVAL_NANOS = 1_250_000_000L * TRANSLATION_BUFFER_BYTES / (1L << 30);
    /** Nanoseconds this vCPU has spent inside its engine since the last flush. */
    private long runNanosSinceFlush;

    private VcpuExit enterUntilExit() {
        while (true) {
            vector = -1;
            long blocks = blockState.blocks();
            if (blocks - flushedAtBlock >= FLUSH_INTERVAL_BLOCKS && runNanosSinceFlush >= FLUSH_INTERVAL_NANOS) {
                flushedAtBlock = blocks;
                runNanosSinceFlush = 0;
                try {
                    engine.flushTranslationCache();
                } catch (UnicornException e) {
                    // A library without uc_ctl(TB_FLUSH): run on, as before.
                    flushedAtBlock = Long.MAX_VALUE / 2;
                }
            }
            CrashRecord.resume(id, rip);
            long started = System.nanoTime();
            UnicornError error = engine.start(rip);
            runNanosSinceFlush += System.nanoTime() - started;
            long at = engine.read(X86Register.RIP);
            // The hook stops the engine before the block runs: count only blocks that run.
            if (blockState.takeStopped() && exitQueue.isEmpty()) {
                exitQueue.add(PREEMPTED);
            }
            if (restartAt >= 0 && error == UnicornError.OK) {
                // A patched site repaired by the interrupt hook: its new bytes run next.
                rip = restartAt;
                restartAt = -1;
                if (exitQueue.isEmpty()) {
                    continue;
                }
                chargeClock();
                return exitQueue.poll();
            }
            restartAt = -1;
            if (error != UnicornError.OK) {
                chargeClock();
                rip = at;
                exitQueue.add(faultFromError(error, at));
            } else if (isSoftwareInterrupt(vector)) {
                chargeClock();
                rip = at;
                exitQueue.add(softwareInterruptFault(at));
            } else if (exitQueue.isEmpty()) {
                // Stopped at an exception: by the interrupt hook, or silently (bug 1883). RIP is
                // at the faulting instruction.
                exits++;
                chargeClock();
                VcpuExit exit = emulateFault(at);
                if (exit != null) {
                    return exit;
                }
                continue;
            } else {
                // A hook asked for the VMM. If a fault stopped the engine too, it came after that
                // request (an OUT then a trapping HLT, say): resuming at RIP re-executes the
                // faulting instruction, which had no effect, so nothing is lost or done twice.
                chargeClock();
                rip = at;
            }
            return exitQueue.poll();
        }
    }

    /**
     * INT n and INT3/INTO arrive with RIP after the instruction; a guest cannot take them. A
     * patched site's INT 0xf0+n never gets here (the interrupt hook emulates it and leaves the
     * vector unset), so one that does is the guest's own INT 0xf0+n at an unpatched address.
     */
    private static boolean isSoftwareInterrupt(int vector) {
        return vector >= 32 || vector == 3 || vector == 4;
    }

    private VcpuExit.Fault softwareInterruptFault(long after) {
        long site = after;
        if (after >= 2 && memory.contains(after - 2, 2) && (memory.readByte(after - 2) & 0xff) == 0xcd
                && (memory.readByte(after - 1) & 0xff) == vector) {
            site = after - 2;
        } else if (after >= 1 && memory.contains(after - 1, 1)) {
            int b = memory.readByte(after - 1) & 0xff;
            site = b == 0xcc || b == 0xce ? after - 1 : after;
        }
        return new VcpuExit.Fault(FaultKind.CPU_EXCEPTION, site, vector,
                memory.readAvailable(site, TrapDecoder.MAX_INSTRUCTION_LENGTH),
                String.format("software interrupt 0x%x: a guest cannot take interrupts under Unicorn", vector));
    }

    /**
     * The engine stopped at a faulting instruction at {@code at}: emulate it if it is a trapped
     * time instruction (patching it first in PATCH mode), else report the guest's fault.
     * Returns an exit, or null to carry on.
     */
    private VcpuExit emulateFault(long at) {
        TrapKind kind;
        int length;
        PatchTable.Site site = patches.at(at);
        if (site != null && !patches.intact(memory, site)) {
            // The guest wrote over the patched site (a HLT over an RDTSC, say) and what it wrote
            // faulted: the site is the guest's again, and its new bytes run from here.
            patches.repair(memory, site);
            dropRewritten(at, site.original().length);
            rip = at;
            return null;
        }
        if (site != null) {
            // Another engine patched this site after this one translated it: drop the stale block.
            kind = site.kind();
            length = site.original().length;
            engine.invalidateTranslations(at, at + length);
        } else {
            Trap trap = TrapDecoder.decode(memory.readAvailable(at, TrapDecoder.MAX_INSTRUCTION_LENGTH));
            if (trap == null) {
                if (vector >= 0 && vector < 32 && at >= 2 && memory.contains(at - 2, 2)
                        && (memory.readByte(at - 2) & 0xff) == 0xcd && (memory.readByte(at - 1) & 0xff) == vector) {
                    // INT 0..31 (INT 0x0d, INT 0) raises the vector of an exception, but with RIP
                    // past it: report it where it is. A real exception of that vector right after
                    // bytes CD vv would be misplaced by two bytes; either way the VM ends.
                    rip = at;
                    return softwareInterruptFault(at);
                }
                rip = at;
                FaultKind fault = vector == 6 ? FaultKind.INVALID_OPCODE : FaultKind.CPU_EXCEPTION;
                String detail = vector >= 0 ? "" : at == 0 ? "execution reached address 0"
                        : "vector hidden by Unicorn bug 1883";
                return new VcpuExit.Fault(fault, at, vector, memory.readAvailable(at, TrapDecoder.MAX_INSTRUCTION_LENGTH),
                        detail);
            }
            kind = trap.kind();
            length = trap.length();
            if (mode == TrapMode.PATCH && PatchTable.patchable(trap)) {
                patches.patch(memory, at, trap);
                newSites++;
                dropRewritten(at, length);
            }
        }
        rip = at + length;
        VcpuExit exit = emulate(kind, at, length);
        if (exit instanceof VcpuExit.Fault) {
            rip = at;
        }
        return exit;
    }

    /**
     * The VMM rewrote [at, at + length) for this vCPU (a patch, or a site given back): drops this
     * engine's translations of it, and lets {@link CodePages} know it is no other vCPU's change.
     */
    private void dropRewritten(long at, int length) {
        engine.invalidateTranslations(at, at + length);
        codePages.rewritten(at, length);
    }

    /** Emulates one time instruction at {@code site}; returns an exit, or null to carry on. */
    private VcpuExit emulate(TrapKind kind, long site, int length) {
        traps++;
        if (emulator.tracing()) {
            emulator.trace(new TraceEvent.Trap(id, kind.name(), site));
        }
        switch (kind) {
            case RDTSC -> setEdxEax(emulator.readTsc());
            case RDTSCP -> {
                long tsc = emulator.readTsc();
                raxRcxRdx.set(0, tsc & 0xffff_ffffL);
                raxRcxRdx.set(1, emulator.readTscAux() & 0xffff_ffffL);
                raxRcxRdx.set(2, tsc >>> 32);
                raxRcxRdx.write();
            }
            case RDMSR -> {
                int msr = (int) engine.read(X86Register.RCX);
                try {
                    setEdxEax(emulator.readMsr(msr));
                } catch (UnknownMsrException e) {
                    return msrFault(site, length, "RDMSR " + e.getMessage());
                }
            }
            case WRMSR -> {
                raxRcxRdx.read();
                int msr = (int) raxRcxRdx.get(1);
                long value = (raxRcxRdx.get(2) << 32) | (raxRcxRdx.get(0) & 0xffff_ffffL);
                try {
                    emulator.writeMsr(msr, value);
                } catch (UnknownMsrException e) {
                    return msrFault(site, length, "WRMSR " + e.getMessage());
                }
            }
            case HLT -> {
                return new VcpuExit.Halted(site);
            }
        }
        return null;
    }

    private VcpuExit.Fault msrFault(long site, int length, String detail) {
        PatchTable.Site patched = patches.at(site);
        byte[] bytes = patched != null ? patched.original() : memory.readAvailable(site, length);
        return new VcpuExit.Fault(FaultKind.UNKNOWN_MSR, site, 13, bytes, detail);
    }

    /** RDTSC and RDMSR results: low half in EAX, high half in EDX, upper halves of RAX/RDX cleared. */
    private void setEdxEax(long value) {
        raxRdx.set(0, value & 0xffff_ffffL);
        raxRdx.set(1, value >>> 32);
        raxRdx.write();
    }

    private VcpuExit faultFromError(UnicornError error, long at) {
        FaultKind kind = switch (error) {
            case INSN_INVALID -> FaultKind.INVALID_OPCODE;
            case READ_UNMAPPED -> FaultKind.UNMAPPED_READ;
            case WRITE_UNMAPPED -> FaultKind.UNMAPPED_WRITE;
            case FETCH_UNMAPPED -> FaultKind.UNMAPPED_FETCH;
            case READ_PROT, WRITE_PROT, FETCH_PROT -> FaultKind.PROTECTION;
            case READ_UNALIGNED, WRITE_UNALIGNED, FETCH_UNALIGNED -> FaultKind.UNALIGNED;
            default -> FaultKind.CPU_EXCEPTION;
        };
        String detail = "Unicorn stopped with " + error.cName();
        // The hook also sees accesses the permissions refuse (the VMM's pages, see BootLayout).
        boolean unmapped = kind == FaultKind.UNMAPPED_READ || kind == FaultKind.UNMAPPED_WRITE
                || kind == FaultKind.UNMAPPED_FETCH || kind == FaultKind.PROTECTION;
        if (unmapped && unmappedAccess) {
            // Before 2.1.4 Unicorn does not sync RIP for memory faults: it is the start of the
            // faulting block, and the detail says so. From 2.1.4 it is the faulting instruction.
            detail = String.format("%d byte%s at 0x%x%s", unmappedSize, unmappedSize == 1 ? "" : "s",
                    unmappedAddress, exactFaultRip ? "" : ", in the block");
        }
        unmappedAccess = false;
        return new VcpuExit.Fault(kind, at, vector, memory.readAvailable(at, TrapDecoder.MAX_INSTRUCTION_LENGTH),
                detail);
    }

    private void chargeClock() {
        long blocks = blockState.blocks();
        clock.chargeGuestWork(blocks - chargedBlocks, exits - chargedExits);
        chargedBlocks = blocks;
        chargedExits = exits;
    }

    // ---- hooks: run inside uc_emu_start, on the scheduler thread -------------------------------

    private void onException(int vector) {
        TrapKind kind = PatchTable.kindOf(vector);
        if (kind != null) {
            // A patched time instruction. The INT ends its translated block, so the site is the
            // block's last two bytes (the NOP padding after it finishes the original
            // instruction's length): no register read. RIP, past the INT, says the same, and is
            // read only if the block does not end at a known site.
            long site = blockState.blockAddress() + Integer.toUnsignedLong(blockState.blockSize()) - 2;
            PatchTable.Site patched = patches.at(site);
            if (patched == null) {
                site = engine.read(X86Register.RIP) - 2;
                patched = patches.at(site);
            }
            if (patched != null && patched.kind() == kind) {
                if (!patches.intact(memory, patched)) {
                    // The guest (another vCPU, whose store this engine's translation did not
                    // see) has written over the site since: run what is there now, from the site.
                    patches.repair(memory, patched);
                    dropRewritten(site, patched.original().length);
                    restartAt = site;
                    engine.stop();
                    return;
                }
                exits++;
                patchedTraps++;
                chargeClock();
                VcpuExit exit = emulate(kind, site, patched.original().length);
                if (exit != null) {
                    exitQueue.add(exit);
                    engine.stop();
                }
                return;
            }
        }
        this.vector = vector;
        engine.stop();
    }

    /**
     * SYSCALL: Unicorn would skip it. The guest runs at CPL3 with EFER.SCE clear, where hardware
     * raises #UD; with no kernel to take it, the VM ends there.
     */
    private void onSyscall() {
        long at = engine.read(X86Register.RIP);
        byte[] bytes = memory.readAvailable(at, TrapDecoder.MAX_INSTRUCTION_LENGTH);
        exits++;
        exitQueue.add(new VcpuExit.Fault(FaultKind.INVALID_OPCODE, at, 6, bytes,
                "SYSCALL raises #UD here (EFER.SCE clear, no kernel to enter); Unicorn would have skipped it"));
        engine.stop();
    }

    /**
     * SYSENTER: Unicorn would jump to SYSENTER_EIP although SYSENTER_CS is 0, where hardware
     * raises #GP(0). The hook's RIP is stale, but SYSENTER ends its block: the block's last bytes.
     */
    private void onSysenter() {
        long at = blockState.blockAddress() + Integer.toUnsignedLong(blockState.blockSize()) - 2;
        byte[] bytes = memory.readAvailable(at, TrapDecoder.MAX_INSTRUCTION_LENGTH);
        exits++;
        exitQueue.add(new VcpuExit.Fault(FaultKind.CPU_EXCEPTION, at, 13, bytes,
                "SYSENTER with SYSENTER_CS 0 raises #GP (no kernel to enter); Unicorn would have jumped to SYSENTER_EIP"));
        engine.stop();
    }

    private int onPortIn(int port, int size) {
        exits++;
        return bus.read(port, size);
    }

    private void onPortOut(int port, int size, int value) {
        exits++;
        if (bus.write(port, size, value)) {
            // The device has seen the write; the VMM sees it when the engine stops, which
            // uc_emu_stop makes happen at the end of the current block (RIP is not even synced
            // inside an instruction hook, so the block cannot be cut at the OUT). Every flagged
            // OUT of the block is queued, none is lost. A store later in the block stops the
            // engine there instead: from 2.1.4 with RIP at the store, which runs next; before,
            // with RIP at the block's start, so the OUT runs again (docs/ARCHITECTURE.md).
            exitQueue.add(new VcpuExit.IoOut(port, size, value));
            if (stopInIoHook) {
                engine.stop();
            } else {
                blockState.requestStop();
            }
        }
    }

    private void onUnmapped(int access, long address, int size) {
        unmappedAccess = true;
        unmappedAddress = address;
        unmappedSize = size;
    }

    private boolean onCpuid() {
        int leaf = (int) engine.read(X86Register.RAX);
        int subleaf = (int) engine.read(X86Register.RCX);
        int[] regs = emulator.cpuid(leaf, subleaf);
        if (regs == null) {
            return false;
        }
        exits++;
        engine.write(X86Register.RAX, regs[0] & 0xffff_ffffL);
        engine.write(X86Register.RBX, regs[1] & 0xffff_ffffL);
        engine.write(X86Register.RCX, regs[2] & 0xffff_ffffL);
        engine.write(X86Register.RDX, regs[3] & 0xffff_ffffL);
        return true;
    }

    @Override
    public void close() {
        try {
            engine.close();
        } finally {
            blockState.close();
        }
    }
}

package dev.tickvm.machine;

import dev.tickvm.bus.PortIoBus;
import dev.tickvm.bus.PortIoDevice;
import dev.tickvm.cpu.BlockHookKind;
import dev.tickvm.cpu.BootLayout;
import dev.tickvm.cpu.CrashRecord;
import dev.tickvm.cpu.PatchTable;
import dev.tickvm.cpu.TrapMode;
import dev.tickvm.cpu.TrapEmulator;
import dev.tickvm.cpu.TrapSelfTest;
import dev.tickvm.cpu.Vcpu;
import dev.tickvm.cpu.VcpuExit;
import dev.tickvm.cpu.VcpuRunState;
import dev.tickvm.cpu.VcpuState;
import dev.tickvm.host.HostClock;
import dev.tickvm.host.VirtualClock;
import dev.tickvm.memory.GuestMemory;
import dev.tickvm.unicorn.Unicorn;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * A VM: guest RAM, vCPUs, the port bus, a host clock, and the scheduler that runs the vCPUs
 * round-robin on the calling thread.
 *
 * <p>Why one thread: Unicorn engines do not make {@code lock} instructions atomic against each
 * other, and stopping an engine from another thread can re-execute a read-modify-write. Running
 * vCPUs in turn, each for a quantum of translated blocks, makes guest atomics correct and every
 * run reproducible: same image and config, same output, bit for bit.
 */
public final class Machine implements AutoCloseable {
    /** Blocks a vCPU runs before the next one gets the CPU. */
    public static final long DEFAULT_QUANTUM = 10_000;
    /**
     * The smallest quantum: a turn of 1 block can make no progress. A store into the next
     * instruction of its own block makes Unicorn abandon the block and run the store again in a
     * block of its own (precise self-modifying code), which the block hook then stops as the
     * turn's second block; the next turn starts at the store again, for ever (found by
     * StructuredGuestTest). With 2, the store's own block always runs.
     */
    public static final long MIN_QUANTUM = 2;
    /** Blocks the whole VM may run before it is declared a runaway (about 30 s of emulation). */
    public static final long DEFAULT_BUDGET = 1L << 30;

    private final Unicorn unicorn;
    private final GuestMemory memory;
    private final PortIoBus bus;
    private final HostClock clock;
    private final List<Vcpu> vcpus;
    /** vCPUs created but kept from running until woken ({@link #park}). */
    private final boolean[] parked;
    private final long quantum;
    private long budget;
    private final IoOutHandler ioOutHandler;
    private final PatchTable patches = new PatchTable();
    private final BlockHookKind blockHook;
    private int next;
    /** Sum of every vCPU's blocks, kept as they run rather than summed on each turn. */
    private long usedBlocks;
    /**
     * What one new trap site counts for in the budget, in blocks. A first-time site takes the
     * fault path, a patch and a retranslation (about 260 us, measured), against tens of ns for a
     * block: without this, a guest made of hundreds of thousands of distinct RDTSCs ran for minutes
     * inside its block budget (issue 11.8).
     */
    public static final long BLOCKS_PER_NEW_SITE = 8_192;
    /**
     * New trap sites that cost nothing: a real guest has a few dozen (clockwatch, the probe), an
     * attack hundreds of thousands; the budgets of existing runs stay as they were.
     */
    public static final long FREE_SITES = 1_024;
    /** New trap sites patched so far, by all vCPUs. */
    private long newSites;

    /** The vCPU whose turn ran the last block, or -1 before any has run. */
    private int lastRan = -1;
    /** Told after every scheduling turn (progress reports); not VM state. */
    private Runnable turnObserver = () -> { };

    private Machine(Builder b) {
        this.unicorn = b.unicorn != null ? b.unicorn : Unicorn.get();
        TrapSelfTest.ensure(unicorn, b.trapMode);
        CrashRecord.engine(unicorn.describe());
        this.clock = b.clock;
        this.quantum = b.quantum;
        this.budget = b.budget;
        this.ioOutHandler = b.ioOutHandler;
        this.blockHook = b.blockHook != null ? b.blockHook : BlockHookKind.configured();
        this.bus = b.bus;
        this.memory = new GuestMemory(b.memorySize);
        List<Vcpu> created = new ArrayList<>();
        try {
            if (b.restored != null) {
                restore(b, created);
            } else {
                boot(b, created);
            }
        } catch (RuntimeException e) {
            created.forEach(Vcpu::close);
            memory.close();
            throw e;
        }
        this.vcpus = List.copyOf(created);
        this.parked = new boolean[vcpus.size()];
    }

    /** A saved VM: guest RAM as it was, and vCPUs built from their states. */
    private void restore(Builder b, List<Vcpu> created) {
        // RAM first: entering a saved user-mode state runs IRETQ through the guest's own GDT.
        b.ram.accept(memory);
        for (int i = 0; i < b.restored.size(); i++) {
            TrapEmulator emulator = b.emulators.apply(i);
            created.add(Vcpu.restore(i, unicorn, memory, bus, clock, emulator, b.trapMode, blockHook, patches,
                    b.restored.get(i)));
        }
    }

    /** A new VM: the VMM's low memory, the image, and vCPUs at the boot stub. */
    private void boot(Builder b, List<Vcpu> created) {
        BootLayout.writeShared(memory);
        long end = b.loadAddress + b.code.length;
        long stacks = BootLayout.stacksBottom(memory.size(), b.vcpus);
        if (b.loadAddress < 0x10000 || end > stacks) {
            throw new IllegalArgumentException(String.format(
                    "guest image 0x%x-0x%x does not fit between 0x10000 and the vCPU stacks at 0x%x"
                            + " (%d MiB RAM, %d vCPUs): give the VM more memory",
                    b.loadAddress, end, stacks, memory.size() >> 20, b.vcpus));
        }
        memory.write(b.loadAddress, b.code);
        for (int i = 0; i < b.vcpus; i++) {
            TrapEmulator emulator = b.emulators.apply(i);
            created.add(new Vcpu(i, b.vcpus, unicorn, memory, bus, clock, emulator, b.trapMode, blockHook, patches,
                    b.entry));
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public GuestMemory memory() {
        return memory;
    }

    public HostClock clock() {
        return clock;
    }

    public List<Vcpu> vcpus() {
        return vcpus;
    }

    /** The time instructions rewritten in guest code so far (VM state: see PatchTable). */
    public PatchTable patches() {
        return patches;
    }

    public Unicorn unicorn() {
        return unicorn;
    }

    /** Which block hook the vCPUs' engines call. */
    public BlockHookKind blockHook() {
        return blockHook;
    }

    /** Blocks a vCPU runs before the next one's turn. */
    public long quantum() {
        return quantum;
    }

    /** Blocks executed by all vCPUs so far. */
    public long blocks() {
        return usedBlocks;
    }

    /**
     * Calls {@code observer} after every scheduling turn, on the running thread, until replaced: a
     * place to watch a long run (its {@link #blocks()}, the clock), e.g. for a progress report. It
     * must only look: the same run with and without an observer is the same run.
     */
    public void observeTurns(Runnable observer) {
        this.turnObserver = Objects.requireNonNull(observer);
    }

    /** The count of {@link #blocks()} at which the VM is cut off as a runaway. */
    public long budget() {
        return budget;
    }

    /** Allows {@code blocks} more blocks from now before the VM counts as a runaway. */
    public void budgetFromNow(long blocks) {
        budget = blocks() + blocks;
    }

    /** Gives the next scheduling turn to this vCPU (the rest follow round-robin from it). */
    public void scheduleNext(int vcpu) {
        if (vcpu < 0 || vcpu >= vcpus.size()) {
            throw new IllegalArgumentException("no vCPU " + vcpu);
        }
        next = vcpu;
    }

    /** True if the vCPU executed HLT and has not been woken since. */
    public boolean isHalted(int vcpu) {
        return runState(vcpu) instanceof VcpuRunState.Halted;
    }

    /** Whether the vCPU runs, sleeps in HLT (perhaps with a wake-up pending) or has faulted. */
    public VcpuRunState runState(int vcpu) {
        return vcpus.get(vcpu).runState();
    }

    /**
     * Makes a halted vCPU runnable again, as an interrupt would: it resumes after its HLT. A
     * vCPU that is not halted yet keeps the wake-up pending and its next HLT returns at once, as
     * a pending interrupt makes HLT fall through; otherwise a wake-up just before a guest goes to
     * sleep would be lost. The probe guest sleeps in HLT between commands.
     */
    public void wake(int vcpu) {
        // A parked vCPU has not run, so it has not reached its HLT either: the wake-up stays
        // pending for it.
        parked[vcpu] = false;
        vcpus.get(vcpu).wake();
    }

    /** The vCPU that gets the next scheduling turn (VM state: a snapshot keeps it). */
    public int nextScheduled() {
        return next;
    }

    /**
     * Keeps a vCPU that has not run yet out of the scheduler until it is woken: created but not
     * started, as a VMM's vCPU is before its first KVM_RUN (a restore happens there). It then
     * starts at its entry, and its first HLT falls through as for any pending wake-up.
     */
    public void park(int vcpu) {
        if (vcpus.get(vcpu).blocks() != 0) {
            throw new IllegalStateException("vCPU " + vcpu + " has already run");
        }
        parked[vcpu] = true;
    }

    /**
     * Runs the vCPUs in turn until the VM ends or pauses. A paused VM can be run again; it
     * resumes with the vCPU after the one that paused it. A guest fault ends the VM for good:
     * once a vCPU has faulted, this returns that fault again without running anything.
     */
    public VmExit run() {
        return run(Long.MAX_VALUE);
    }

    /**
     * As {@link #run()}, and stops between two turns once the host clock has reached
     * {@code untilNanos} ({@link VmExit.TimeReached}): where a VMM can save the VM, with nothing
     * of a turn half done. The same run with and without the stop schedules the same turns.
     */
    public VmExit run(long untilNanos) {
        for (Vcpu v : vcpus) {
            if (v.runState() instanceof VcpuRunState.Faulted(VcpuExit.Fault fault)) {
                return new VmExit.Faulted(v.id(), fault);
            }
        }
        int n = vcpus.size();
        while (true) {
            int idle = 0;
            while ((parked[next] || !vcpus.get(next).runState().runnable()) && idle < n) {
                next = (next + 1) % n;
                idle++;
            }
            if (idle == n) {
                return new VmExit.AllHalted();
            }
            // Cannot overflow: a site is at least 2 bytes of at most 4 GiB of RAM, so < 2^44.
            long charged = usedBlocks + Math.max(0, newSites - FREE_SITES) * BLOCKS_PER_NEW_SITE;
            if (charged >= budget) {
                // The vCPU that ran the budget's last block, not the one whose turn is next.
                Vcpu v = vcpus.get(lastRan >= 0 ? lastRan : next);
                return new VmExit.BudgetExhausted(charged, v.id(), v.rip(), newSites);
            }
            if (clock.nanos() >= untilNanos) {
                return new VmExit.TimeReached(clock.nanos());
            }
            int current = next;
            Vcpu vcpu = vcpus.get(current);
            next = (current + 1) % n;
            long before = vcpu.blocks();
            long sitesBefore = vcpu.newSites();
            VcpuExit exit = vcpu.run(Math.min(quantum, budget - charged));
            newSites += vcpu.newSites() - sitesBefore;
            if (vcpu.blocks() > before) {
                lastRan = current;
            }
            usedBlocks += vcpu.blocks() - before;
            turnObserver.run();
            VmExit end = switch (exit) {
                case VcpuExit.Preempted p -> null;
                case VcpuExit.Halted h -> null; // the vCPU knows whether a wake-up was pending
                case VcpuExit.Fault f -> new VmExit.Faulted(current, f);
                case VcpuExit.IoOut out -> switch (ioOutHandler.onIoOut(current, out)) {
                    case IoOutHandler.IoAction.Continue c -> null;
                    case IoOutHandler.IoAction.Pause p -> new VmExit.Paused(current);
                    case IoOutHandler.IoAction.Exit e -> new VmExit.Exited(e.code());
                };
            };
            if (end != null) {
                return end;
            }
        }
    }

    @Override
    public void close() {
        vcpus.forEach(Vcpu::close);
        memory.close();
    }

    /** Configures a machine; every setting has a default but the image. */
    public static final class Builder {
        private Unicorn unicorn;
        private long memorySize = 16L << 20;
        private int vcpus = 1;
        private HostClock clock = new VirtualClock();
        private long quantum = DEFAULT_QUANTUM;
        private long budget = DEFAULT_BUDGET;
        private final PortIoBus bus = new PortIoBus();
        private IoOutHandler ioOutHandler = IoOutHandler.CONTINUE;
        private IntFunction<TrapEmulator> emulators;
        private TrapMode trapMode = TrapMode.PATCH;
        private BlockHookKind blockHook;
        private long loadAddress;
        private long entry;
        private byte[] code;
        private List<VcpuState> restored;
        private Consumer<GuestMemory> ram;

        private Builder() {
        }

        public Builder unicorn(Unicorn unicorn) {
            this.unicorn = unicorn;
            return this;
        }

        public Builder memorySize(long bytes) {
            this.memorySize = bytes;
            return this;
        }

        public Builder vcpus(int count) {
            if (count < 1 || count > BootLayout.MAX_VCPUS) {
                throw new IllegalArgumentException("vCPUs must be 1 to " + BootLayout.MAX_VCPUS + ", got " + count);
            }
            this.vcpus = count;
            return this;
        }

        public Builder clock(HostClock clock) {
            this.clock = Objects.requireNonNull(clock);
            return this;
        }

        /** Blocks per scheduling turn (at least {@link #MIN_QUANTUM}). */
        public Builder quantum(long blocks) {
            if (blocks < MIN_QUANTUM) {
                throw new IllegalArgumentException("quantum must be at least " + MIN_QUANTUM + " blocks, got " + blocks
                        + " (in a turn of 1 block a guest can make no progress)");
            }
            this.quantum = blocks;
            return this;
        }

        /** Blocks the VM may run in all before it is cut off as a runaway (>= 1). */
        public Builder budget(long blocks) {
            if (blocks < 1) {
                throw new IllegalArgumentException("budget must be >= 1 block, got " + blocks);
            }
            this.budget = blocks;
            return this;
        }

        public Builder device(int basePort, int ports, PortIoDevice device) {
            bus.register(basePort, ports, device);
            return this;
        }

        public Builder onIoOut(IoOutHandler handler) {
            this.ioOutHandler = Objects.requireNonNull(handler);
            return this;
        }

        /** Who emulates each vCPU's trapped instructions; defaults to {@link CounterTsc}. */
        public Builder trapEmulators(IntFunction<TrapEmulator> perVcpu) {
            this.emulators = Objects.requireNonNull(perVcpu);
            return this;
        }

        /** How trapped time instructions reach the VMM (default PATCH; FAULT never alters guest code). */
        public Builder trapMode(TrapMode mode) {
            this.trapMode = Objects.requireNonNull(mode);
            return this;
        }

        /**
         * Which block hook the vCPUs use; by default {@link BlockHookKind#configured()} (native
         * when it is available). A guest runs the same under either, only slower under Java.
         */
        public Builder blockHook(BlockHookKind kind) {
            this.blockHook = Objects.requireNonNull(kind);
            return this;
        }

        public Builder image(long loadAddress, long entry, byte[] code) {
            if (code.length == 0) {
                throw new IllegalArgumentException("empty guest image");
            }
            this.loadAddress = loadAddress;
            this.entry = entry;
            this.code = code.clone();
            return this;
        }

        /**
         * Builds the VM from saved vCPU states instead of booting an image: one vCPU per state,
         * vCPU i from state i. {@code ram} fills the new guest memory (memorySize bytes) with what
         * it held at the save, patched sites put back ({@link PatchTable#unpatched}); the patch
         * table starts empty and fills again as the guest traps. Everything else (clock, trap
         * emulators, devices) is configured as for a new VM, from their own saved states.
         */
        public Builder restore(List<VcpuState> vcpuStates, Consumer<GuestMemory> ram) {
            if (vcpuStates.isEmpty() || vcpuStates.size() > BootLayout.MAX_VCPUS) {
                throw new IllegalArgumentException("a VM has 1 to " + BootLayout.MAX_VCPUS + " vCPUs, got "
                        + vcpuStates.size() + " states");
            }
            this.restored = List.copyOf(vcpuStates);
            this.ram = Objects.requireNonNull(ram);
            this.vcpus = restored.size();
            return this;
        }

        public Machine build() {
            if ((code == null) == (restored == null)) {
                throw new IllegalStateException(code == null ? "no guest image given"
                        : "a VM either boots an image or restores states, not both");
            }
            if (emulators == null) {
                HostClock c = clock;
                emulators = i -> new CounterTsc(c);
            }
            return new Machine(this);
        }
    }
}

package dev.tickvm.lab;

import dev.tickvm.host.SimulatedHost;
import dev.tickvm.images.GuestImage;
import dev.tickvm.images.GuestImages;
import dev.tickvm.kvm.KvmVm;
import dev.tickvm.machine.Machine;
import dev.tickvm.machine.VmExit;
import dev.tickvm.memory.GuestMemory;
import dev.tickvm.snapshot.Progress;
import dev.tickvm.snapshot.SaveResult;
import dev.tickvm.snapshot.SectionReader;
import dev.tickvm.snapshot.SectionWriter;
import dev.tickvm.snapshot.SnapshotException;
import dev.tickvm.snapshot.SnapshotIoException;
import dev.tickvm.unicorn.Unicorn;
import dev.tickvm.vm.RestoreStrategy;
import dev.tickvm.vm.VirtualMachine;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * A VM set up for experiments on guest time: a {@link KvmVm} on a simulated host, a machine
 * running the probe guest on every vCPU, and typed methods that run one probe command and return
 * its results (the host half of KVM selftests' ucall). Between commands every probe sleeps in
 * HLT, so an idle vCPU costs no host time.
 */
public final class Lab implements AutoCloseable {
    /** Mailboxes: 0x80 bytes per vCPU (see probe.S). */
    public static final long MAILBOX_BASE = 0x8000;
    public static final long MAILBOX_SIZE = 0x80;
    /** The WATCH command's stop flag, in the mailbox. */
    public static final long WATCH_STOP = 72;
    /** The shared value of the sync commands. */
    public static final long SYNC_GLOBAL = 0xc000;
    /** The probe's global last_value for pvclock reads without a trusted TSC_STABLE bit. */
    public static final long LAST_VALUE = 0xc008;
    /** pvclock pages: 32 bytes per vCPU, all in one 4 KiB page. */
    public static final long PVCLOCK_BASE = 0xa000;
    /** The pvclock_wall_clock structure. */
    public static final long WALL_CLOCK = 0xb000;
    /** Batch buffers: 128 KiB (16,384 readings) per vCPU. */
    public static final long BATCH_BASE = 0x20_0000;
    public static final long BATCH_SIZE = 0x2_0000;
    public static final int MAX_BATCH = (int) (BATCH_SIZE / 8);
    public static final int DOORBELL_PORT = VirtualMachine.DOORBELL_PORT;
    /** Blocks one command may take before it counts as hung (about a minute of emulation). */
    public static final long COMMAND_BUDGET = 1L << 30;

    private final SimulatedHost host;
    private final KvmVm kvm;
    private final Machine machine;
    private final GuestMemory memory;
    private final VirtualMachine vm;
    private ByteArrayOutputStream serial = new ByteArrayOutputStream();
    private final BitSet stopped = new BitSet();
    /** vCPUs running a WATCH: they take no other command until it has ended. */
    private final BitSet watching = new BitSet();
    private final long[] watchCycles;
    /** Doorbells rung while nobody waited for them (a watch that ended during another command). */
    private final BitSet unclaimedDoorbells = new BitSet();

    private Lab(VirtualMachine vm) {
        this.vm = vm;
        this.host = vm.host();
        this.kvm = vm.kvm();
        this.machine = vm.machine();
        this.memory = machine.memory();
        this.watchCycles = new long[machine.vcpus().size()];
    }

    /**
     * Creates a VM on {@code host} with {@code vcpus} probes. {@code vmTscKhz} is set on the VM
     * before the vCPUs are created (KVM_SET_TSC_KHZ on the VM fd); 0 keeps the host's frequency.
     */
    public static Lab create(Unicorn unicorn, SimulatedHost host, int vcpus, long vmTscKhz) {
        return create(unicorn, host, vcpus, vmTscKhz, Machine.DEFAULT_QUANTUM);
    }

    /**
     * As {@link #create(Unicorn, SimulatedHost, int, long)}, with the scheduler's quantum in
     * blocks: a small one interleaves vCPUs finely, closer to vCPUs that really run in parallel.
     */
    public static Lab create(Unicorn unicorn, SimulatedHost host, int vcpus, long vmTscKhz, long quantum) {
        return create(unicorn, host, vcpus, vmTscKhz, quantum, true);
    }

    /**
     * As above; with {@code boot} false the vCPUs are created but never run: no vCPU has entered
     * the guest, so none has serviced KVM's requests (the master clock is still off), which is
     * where a VMM restores a saved VM. Each probe starts with the first command it is given.
     */
    public static Lab create(Unicorn unicorn, SimulatedHost host, int vcpus, long vmTscKhz, long quantum,
            boolean boot) {
        GuestImage probe = GuestImages.require("probe");
        long memory = Math.max(16L << 20, BATCH_BASE + vcpus * BATCH_SIZE + (vcpus + 16) * 16 * 1024L);
        memory = (memory + 0xfffff) & ~0xfffffL;
        ByteArrayOutputStream serial = new ByteArrayOutputStream();
        VirtualMachine vm = VirtualMachine.boot(unicorn, host, probe, vcpus, memory, vmTscKhz,
                VirtualMachine.Settings.DEFAULT.withQuantum(quantum), serial::write);
        Lab lab = new Lab(vm, serial);
        try {
            // Let every probe reach its first HLT, so all start idle.
            if (boot) {
                lab.settle();
            } else {
                for (int i = 0; i < vcpus; i++) {
                    lab.machine.park(i);
                }
            }
        } catch (RuntimeException e) {
            lab.close();
            throw e;
        }
        return lab;
    }

    private Lab(VirtualMachine vm, ByteArrayOutputStream serial) {
        this(vm);
        this.serial = serial;
    }

    /**
     * Saves the VM with the lab's own state (which probes were stopped, which are watching, the
     * doorbells nobody has claimed yet) to {@code file}; the VM then runs on, as after QEMU's
     * savevm: kvmclock did not count the save, and each vCPU with a kvmclock page sees
     * PVCLOCK_GUEST_STOPPED.
     */
    public SaveResult save(Path file, Progress progress) throws SnapshotIoException {
        return save(file, progress, true);
    }

    /** As {@link #save(Path, Progress)}; with {@code resume} false the VM stays stopped (a save while paused). */
    public SaveResult save(Path file, Progress progress, boolean resume) throws SnapshotIoException {
        SectionWriter w = new SectionWriter();
        w.putBytes(stopped.toByteArray()).putBytes(watching.toByteArray()).putBytes(unclaimedDoorbells.toByteArray());
        for (long cycles : watchCycles) {
            w.putLong(cycles);
        }
        w.putBytes(serial.toByteArray());
        SaveResult result = vm.save(file, w.toByteArray(), progress);
        if (resume) {
            vm.resumeAfterSave();
        }
        return result;
    }

    /**
     * A lab rebuilt from a snapshot {@link #save} wrote, on {@code destination} (whose clock must
     * be at or after the save's true time), with {@code strategy} restoring guest time.
     */
    public static Lab restore(Unicorn unicorn, Path file, SimulatedHost destination, RestoreStrategy strategy, long quantum,
            Progress progress) throws SnapshotException {
        return restore(unicorn, file, destination, strategy, RestoreStrategy.Pace.NONE, quantum, progress);
    }

    /** As above, with {@code pace} between the strategy's per-vCPU calls. */
    public static Lab restore(Unicorn unicorn, Path file, SimulatedHost destination, RestoreStrategy strategy,
            RestoreStrategy.Pace pace, long quantum, Progress progress) throws SnapshotException {
        ByteArrayOutputStream serial = new ByteArrayOutputStream();
        VirtualMachine.Restored restored = VirtualMachine.restore(unicorn, file, h -> destination, strategy, pace,
                VirtualMachine.Settings.DEFAULT.withQuantum(quantum), serial::write, progress);
        Lab lab = new Lab(restored.vm(), serial);
        try {
            SectionReader r = SectionReader.of(restored.vmmState());
            lab.stopped.or(BitSet.valueOf(r.getBytes(8)));
            lab.watching.or(BitSet.valueOf(r.getBytes(8)));
            lab.unclaimedDoorbells.or(BitSet.valueOf(r.getBytes(8)));
            for (int i = 0; i < lab.watchCycles.length; i++) {
                lab.watchCycles[i] = r.getLong();
            }
            serial.writeBytes(r.getBytes(VirtualMachine.MAX_VMM_STATE));
            r.finish();
        } catch (SnapshotException | RuntimeException e) {
            lab.close();
            throw e;
        }
        return lab;
    }

    /**
     * Migrates the VM to {@code destination}, as a VMM does through a snapshot: the VM stops and
     * is saved (KVM's part through its control plane), {@code downtimeNanos} of true time pass with
     * no VM running, and a new VM on the destination is restored with {@code strategy}, which takes
     * {@code staggerNanos} between one vCPU's calls and the next one's. This lab is closed; the
     * returned one runs the same guest, its vCPUs not yet entered.
     */
    public Lab migrate(Unicorn unicorn, SimulatedHost destination, RestoreStrategy strategy, long downtimeNanos,
            long staggerNanos) throws SnapshotException, IOException {
        if (downtimeNanos < 0 || staggerNanos < 0) {
            throw new IllegalArgumentException("downtime and stagger are durations: " + downtimeNanos + ", " + staggerNanos);
        }
        // Checked before this lab is closed: an overflow halfway would leave no VM at all.
        long room = Long.MAX_VALUE - destination.clock().nanos();
        int gaps = machine.vcpus().size() - 1;
        if (downtimeNanos > room || gaps > 0 && staggerNanos > (room - downtimeNanos) / gaps) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "a downtime of %,d ns and a stagger"
                    + " of %,d ns would take the host clock past 2^63-1 ns (292 years): at most %,d ns are left",
                    downtimeNanos, staggerNanos, room));
        }
        Path file = Files.createTempFile("tickvm-migration-", ".tvm");
        try {
            save(file, Progress.NONE, false);
            close();
            destination.clock().advance(downtimeNanos);
            return restore(unicorn, file, destination, strategy, () -> destination.clock().advance(staggerNanos),
                    machine.quantum(), Progress.NONE);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** The whole VM (machine, kvm layer, devices). */
    public VirtualMachine vm() {
        return vm;
    }

    public SimulatedHost host() {
        return host;
    }

    public KvmVm kvm() {
        return kvm;
    }

    public Machine machine() {
        return machine;
    }

    public int vcpus() {
        return machine.vcpus().size();
    }

    // ---- probe commands -------------------------------------------------------------------

    public long rdtsc(int vcpu) {
        return run(vcpu, ProbeCommand.RDTSC)[0];
    }

    /** {tsc, tsc_aux}. */
    public long[] rdtscp(int vcpu) {
        long[] r = run(vcpu, ProbeCommand.RDTSCP);
        return new long[] {r[0], r[1] & 0xffff_ffffL};
    }

    public long rdmsr(int vcpu, int msr) {
        return run(vcpu, ProbeCommand.RDMSR, msr & 0xffff_ffffL)[0];
    }

    public void wrmsr(int vcpu, int msr, long value) {
        run(vcpu, ProbeCommand.WRMSR, msr & 0xffff_ffffL, value);
    }

    /** {eax, ebx, ecx, edx}. */
    public long[] cpuid(int vcpu, int leaf, int subleaf) {
        long[] r = run(vcpu, ProbeCommand.CPUID, leaf & 0xffff_ffffL, subleaf & 0xffff_ffffL);
        return new long[] {r[0] & 0xffff_ffffL, r[1] & 0xffff_ffffL, r[2] & 0xffff_ffffL, r[3] & 0xffff_ffffL};
    }

    /** Spins until the guest TSC has advanced by {@code cycles}; returns {first, last} TSC. */
    public long[] spin(int vcpu, long cycles) {
        long[] r = run(vcpu, ProbeCommand.SPIN, cycles);
        return new long[] {r[0], r[1]};
    }

    /** {@code count} back-to-back TSC readings. */
    public long[] batch(int vcpu, int count) {
        if (count < 0 || count > MAX_BATCH) {
            throw new IllegalArgumentException("batch count must be 0.." + MAX_BATCH + ", got " + count);
        }
        long buffer = BATCH_BASE + vcpu * BATCH_SIZE;
        run(vcpu, ProbeCommand.BATCH, count, buffer);
        long[] readings = new long[count];
        for (int i = 0; i < count; i++) {
            readings[i] = memory.readLong(buffer + i * 8L);
        }
        return readings;
    }

    /** What one vCPU saw in the sync loop. */
    public record SyncResult(int vcpu, long regressions, long iterations, long largestRegression) {
    }

    /**
     * The tsc_scaling_sync loop on the given vCPUs at once, each for {@code cycles} of its own
     * TSC, all reading and writing one shared value.
     */
    public List<SyncResult> sync(List<Integer> vcpus, long cycles) {
        memory.writeLong(SYNC_GLOBAL, 0);
        for (int v : vcpus) {
            post(v, ProbeCommand.SYNC, cycles, SYNC_GLOBAL, 0);
        }
        awaitAll(vcpus);
        List<SyncResult> results = new ArrayList<>();
        for (int v : vcpus) {
            long[] r = results(v);
            results.add(new SyncResult(v, r[0], r[1], r[2]));
        }
        return results;
    }

    // ---- kvmclock ---------------------------------------------------------------------------

    /** Where vCPU {@code vcpu}'s pvclock page goes. */
    public static long pvclockPage(int vcpu) {
        return PVCLOCK_BASE + vcpu * 32L;
    }

    /** The guest enables its kvmclock: WRMSR MSR_KVM_SYSTEM_TIME_NEW = page | 1. */
    public void enableKvmclock(int vcpu) {
        wrmsr(vcpu, dev.tickvm.kvm.Msr.KVM_SYSTEM_TIME_NEW, pvclockPage(vcpu) | 1);
    }

    /** One kvmclock reading by the guest, as Linux reads it. */
    public record KvmclockReading(long nanos, long retries, long tsc, int flags, boolean clamped) {
    }

    /**
     * How the guest treats the TSC_STABLE bit when it reads kvmclock. Linux trusts it when
     * CPUID 0x40000001 has bit 24 and otherwise clamps every reading to a global last value.
     */
    public enum ReadMode {
        /** Linux with CPUID bit 24: no clamp while TSC_STABLE is set. */
        TRUST_STABLE(1),
        /** Linux without it: always clamp. */
        ALWAYS_CLAMP(0),
        /** No clamp at all: the raw pvclock value, to show what the clamp hides. */
        RAW(2);

        final long bits;

        ReadMode(long bits) {
            this.bits = bits;
        }
    }

    /** The guest reads its kvmclock, as Linux's pvclock_clocksource_read does. */
    public KvmclockReading kvmclock(int vcpu, ReadMode mode) {
        long[] r = run(vcpu, ProbeCommand.KVMCLOCK, pvclockPage(vcpu) | mode.bits);
        return new KvmclockReading(r[0], r[1], r[2], (int) (r[3] & 0xff), (r[3] >> 8 & 1) != 0);
    }

    /** The guest publishes-and-reads the wall clock: WRMSR MSR_KVM_WALL_CLOCK_NEW, then reads it. */
    public record WallClockReading(long seconds, long nanos, int version, long retries) {
    }

    public WallClockReading wallClock(int vcpu) {
        wrmsr(vcpu, dev.tickvm.kvm.Msr.KVM_WALL_CLOCK_NEW, WALL_CLOCK);
        return readWallClock(vcpu);
    }

    /** The guest reads the pvclock_wall_clock as it is, without writing the MSR (what a booted Linux does). */
    public WallClockReading readWallClock(int vcpu) {
        long[] r = run(vcpu, ProbeCommand.WALLCLOCK, WALL_CLOCK);
        return new WallClockReading(r[0] & 0xffff_ffffL, r[1] & 0xffff_ffffL, (int) r[2], r[3]);
    }

    /** What one vCPU saw reading kvmclock against a shared last-seen value. */
    public record KvmclockSyncResult(int vcpu, long regressions, long retries, long clamps, long largestRegression) {
    }

    /**
     * {@code reads} kvmclock reads on each of these vCPUs at once, each compared with a value
     * shared by all of them (the sync loop with kvmclock instead of the TSC).
     */
    public List<KvmclockSyncResult> kvmclockSync(List<Integer> vcpus, long reads, ReadMode mode) {
        memory.writeLong(SYNC_GLOBAL, 0);
        for (int v : vcpus) {
            post(v, ProbeCommand.KVMCLOCK_SYNC, reads, pvclockPage(v) | mode.bits, SYNC_GLOBAL);
        }
        awaitAll(vcpus);
        List<KvmclockSyncResult> results = new ArrayList<>();
        for (int v : vcpus) {
            long[] r = results(v);
            results.add(new KvmclockSyncResult(v, r[0], r[1], r[2], r[3]));
        }
        return results;
    }

    /**
     * A torn read: the page's version is made odd (as if the host were mid-update), vCPU
     * {@code reader} reads kvmclock, and vCPU {@code writer} restores an even version after
     * spinning {@code delayCycles}. The reading must come after the retry.
     */
    public KvmclockReading tornKvmclockRead(int reader, int writer, long delayCycles) {
        long page = pvclockPage(reader);
        int version = memory.readInt(page);
        memory.writeInt(page, version | 1);
        post(reader, ProbeCommand.KVMCLOCK, page | ReadMode.TRUST_STABLE.bits);
        post(writer, ProbeCommand.STORE, page, (version | 1) + 1, delayCycles);
        // The reader goes first, so it meets the odd version whatever the writer's delay.
        machine.scheduleNext(reader);
        awaitAll(List.of(reader, writer));
        long[] r = results(reader);
        return new KvmclockReading(r[0], r[1], r[2], (int) (r[3] & 0xff), (r[3] >> 8 & 1) != 0);
    }

    // ---- watching the clocks ----------------------------------------------------------------

    /**
     * How the probe's WATCH command runs: the clockwatch image's loop, silent.
     *
     * @param cycles      end after this many cycles of the vCPU's TSC; 0 to run until
     *                    {@link #stopWatch} (or {@link #watchResult}) stops it
     * @param thresholdNs a forward step larger than this is a jump; 0 for the default, 1 ms
     * @param kvmclock    how to read kvmclock in each round too, or null to watch the TSC only
     *                    (the vCPU must have enabled kvmclock: {@link #enableKvmclock})
     */
    public record WatchParams(long cycles, long thresholdNs, ReadMode kvmclock) {
        public WatchParams {
            if (cycles < 0 || thresholdNs < 0) {
                throw new IllegalArgumentException("cycles and threshold must be >= 0, got " + cycles + " and "
                        + thresholdNs);
            }
        }

        /** The TSC only, until stopped, with the default 1 ms threshold. */
        public static WatchParams tscUntilStopped() {
            return new WatchParams(0, 0, null);
        }

        /** The TSC and kvmclock (read as Linux does with TSC_STABLE trusted), until stopped. */
        public static WatchParams bothUntilStopped() {
            return new WatchParams(0, 0, ReadMode.TRUST_STABLE);
        }
    }

    /**
     * Starts the watch loop on a vCPU and returns once it has its first readings, while it keeps
     * running: time that passes from now on (host clock advances, KVM calls, other commands, which
     * run it too, {@link #runGuests}) is what it watches. Until the watch ends, the vCPU takes no
     * other command.
     */
    public void startWatch(int vcpu, WatchParams params) {
        checkVcpu(vcpu);
        if (params.kvmclock() != null && !kvm.vcpu(vcpu).pvclockEnabled()) {
            throw new IllegalStateException("vCPU " + vcpu + " has not enabled kvmclock: enableKvmclock first");
        }
        memory.writeLong(mailbox(vcpu) + WATCH_STOP, 0);
        post(vcpu, ProbeCommand.WATCH, params.cycles(), params.thresholdNs(),
                params.kvmclock() == null ? 0 : pvclockPage(vcpu) | params.kvmclock().bits);
        awaitAll(List.of(vcpu));
        if (results(vcpu)[0] == -1) {
            throw new ProbeException("the probe on vCPU " + vcpu + " cannot watch: CPUID 0x40000010 gives no TSC"
                    + " frequency");
        }
        watching.set(vcpu);
        watchCycles[vcpu] = params.cycles();
    }

    /** What the watch on this vCPU has found so far, read from guest RAM without running anything. */
    public WatchFindings watchFindings(int vcpu) {
        checkVcpu(vcpu);
        return WatchFindings.read(memory, vcpu);
    }

    /**
     * Ends the watch and returns its findings: a watch with a cycle count runs until its TSC has
     * advanced that much; one without is stopped (as {@link #stopWatch}).
     */
    public WatchFindings watchResult(int vcpu) {
        requireWatching(vcpu);
        return endWatch(vcpu, watchCycles[vcpu] == 0);
    }

    /**
     * Stops the watch and returns its findings. The loop looks at its stop flag after each round
     * and then reads its clocks once more, so what the host did before this call is in them.
     */
    public WatchFindings stopWatch(int vcpu) {
        requireWatching(vcpu);
        return endWatch(vcpu, true);
    }

    /** True while a watch runs on this vCPU (started and not yet collected). */
    public boolean isWatching(int vcpu) {
        return watching.get(vcpu);
    }

    private void requireWatching(int vcpu) {
        checkVcpu(vcpu);
        if (!watching.get(vcpu)) {
            throw new IllegalStateException("no watch runs on vCPU " + vcpu + ": startWatch first");
        }
    }

    private WatchFindings endWatch(int vcpu, boolean stop) {
        if (stop) {
            memory.writeLong(mailbox(vcpu) + WATCH_STOP, 1);
        }
        awaitAll(List.of(vcpu));
        watching.clear(vcpu);
        WatchFindings findings = WatchFindings.read(memory, vcpu);
        if (findings.state() != WatchFindings.State.ENDED) {
            throw new ProbeException("the watch on vCPU " + vcpu + " reported without ending: " + findings);
        }
        return findings;
    }

    /**
     * Lets the guest run for {@code blocks} translated blocks in all: the vCPUs that have work
     * (watches) run round-robin while the others sleep; returns early if none has any.
     */
    public void runGuests(long blocks) {
        if (blocks < 1) {
            throw new IllegalArgumentException("blocks must be >= 1, got " + blocks);
        }
        machine.budgetFromNow(blocks);
        while (true) {
            switch (machine.run()) {
                case VmExit.BudgetExhausted b -> {
                    return;
                }
                case VmExit.AllHalted h -> {
                    return;
                }
                case VmExit.Paused p -> unclaimedDoorbells.set(p.vcpu());
                case VmExit exit -> throw new ProbeException(exit.describe());
            }
        }
    }

    /**
     * Lets {@code nanos} of host time pass with the guest running: the vCPUs that have work
     * (watches) run round-robin, and once none has, the VM idles until the time is up (a host
     * clock that only moves with guest work is advanced to it). Returns the host time reached.
     */
    public long runFor(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("run for " + nanos + " ns: time never goes back");
        }
        long until = Math.addExact(host.clock().nanos(), nanos);
        machine.budgetFromNow(COMMAND_BUDGET);
        while (true) {
            switch (machine.run(until)) {
                case VmExit.TimeReached t -> {
                    return t.nanos();
                }
                case VmExit.AllHalted h -> {
                    long now = host.clock().nanos();
                    if (now < until && host.clock().kind().equals("virtual")) {
                        host.clock().advance(until - now);
                    }
                    return host.clock().nanos();
                }
                case VmExit.Paused p -> unclaimedDoorbells.set(p.vcpu());
                case VmExit exit -> throw new ProbeException(exit.describe());
            }
        }
    }

    /** Stops the probe on a vCPU for good (it halts). */
    public void stop(int vcpu) {
        run(vcpu, ProbeCommand.STOP);
        stopped.set(vcpu);
    }

    /** Guest serial output so far (the probe prints nothing unless something is wrong). */
    public String serialOutput() {
        return serial.toString();
    }

    // ---- mailbox mechanics -----------------------------------------------------------------

    private long[] run(int vcpu, ProbeCommand command, long... args) {
        post(vcpu, command, args);
        awaitAll(List.of(vcpu));
        return results(vcpu);
    }

    private void checkVcpu(int vcpu) {
        if (vcpu < 0 || vcpu >= vcpus()) {
            throw new IllegalArgumentException("no vCPU " + vcpu + " (the VM has " + vcpus() + ")");
        }
    }

    private static long mailbox(int vcpu) {
        return MAILBOX_BASE + vcpu * MAILBOX_SIZE;
    }

    private void post(int vcpu, ProbeCommand command, long... args) {
        checkVcpu(vcpu);
        if (stopped.get(vcpu)) {
            throw new ProbeException("the probe on vCPU " + vcpu + " was stopped");
        }
        if (watching.get(vcpu)) {
            throw new IllegalStateException("the probe on vCPU " + vcpu + " is watching its clocks: end the watch"
                    + " first (watchResult or stopWatch)");
        }
        long box = mailbox(vcpu);
        for (int i = 0; i < 3; i++) {
            memory.writeLong(box + 8 + i * 8L, i < args.length ? args[i] : 0);
        }
        for (int i = 0; i < 4; i++) {
            memory.writeLong(box + 32 + i * 8L, 0);
        }
        memory.writeLong(box, command.code);
        machine.wake(vcpu);
    }

    private long[] results(int vcpu) {
        long box = mailbox(vcpu);
        return new long[] {memory.readLong(box + 32), memory.readLong(box + 40), memory.readLong(box + 48),
            memory.readLong(box + 56)};
    }

    /**
     * Runs the machine until each of these vCPUs has rung the doorbell once (or had rung it
     * while nobody waited: a watch can end while another command runs).
     */
    private void awaitAll(List<Integer> vcpus) {
        BitSet waiting = new BitSet();
        vcpus.forEach(waiting::set);
        BitSet early = (BitSet) unclaimedDoorbells.clone();
        early.and(waiting);
        waiting.andNot(early);
        unclaimedDoorbells.andNot(early);
        machine.budgetFromNow(COMMAND_BUDGET);
        while (!waiting.isEmpty()) {
            VmExit exit = machine.run();
            switch (exit) {
                case VmExit.Paused p -> {
                    if (waiting.get(p.vcpu())) {
                        waiting.clear(p.vcpu());
                    } else {
                        unclaimedDoorbells.set(p.vcpu());
                    }
                }
                case VmExit.AllHalted h -> throw new ProbeException("the probe on vCPU " + waiting.nextSetBit(0)
                        + " went back to sleep without reporting");
                default -> throw new ProbeException(exit.describe());
            }
        }
    }

    private void settle() {
        VmExit exit = machine.run();
        if (!(exit instanceof VmExit.AllHalted)) {
            throw new ProbeException("the probe did not start cleanly: " + exit.describe());
        }
    }

    @Override
    public void close() {
        vm.close();
    }
}

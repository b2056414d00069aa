package dev.tickvm.kvm;

import dev.tickvm.host.SimulatedHost;
import dev.tickvm.memory.GuestMemory;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.BiFunction;

/**
 * The kernel half of a VM, for time: what KVM keeps in {@code struct kvm_arch} about TSC
 * synchronization, and the VM-wide ioctls. Runs on a {@link SimulatedHost}; knows nothing of
 * Unicorn. One thread at a time (the machine's scheduler thread).
 */
public final class KvmVm {
    private final SimulatedHost host;
    private final BiFunction<Integer, Integer, int[]> nativeCpuid;
    private final List<KvmVcpu> vcpus = new ArrayList<>();
    private long defaultTscKhz;

    // kvm_synchronize_tsc's VM-wide state (kvm->arch.*), see TIME.md section 5.
    long lastTscNsec;
    long lastTscWrite;
    long lastTscKhz;
    long lastTscOffset;
    long curTscGeneration;
    long curTscNsec;
    long curTscWrite;
    long curTscOffset;
    int nrVcpusMatchedTsc;
    boolean userSetTsc;

    // kvmclock's VM-wide state (kvm->arch.*), see TIME.md sections 6 and 7.
    private GuestMemory memory;
    long kvmclockOffset;
    boolean useMasterClock;
    long masterKernelNs;
    long masterCycleNow;
    boolean bootVcpuRunsOldKvmclock;
    private long wallClockMsr;
    private PvclockMode pvclockMode = PvclockMode.KVM_COMPAT;

    /**
     * @param nativeCpuid the CPU model's own CPUID answers (leaf, subleaf) -> {eax, ebx, ecx, edx},
     *                    which the vCPUs extend with KVM's bits
     */
    public KvmVm(SimulatedHost host, BiFunction<Integer, Integer, int[]> nativeCpuid) {
        this.host = host;
        this.nativeCpuid = nativeCpuid;
        this.defaultTscKhz = host.tscKhz();
        // kvmclock reads 0 when the VM is created.
        this.kvmclockOffset = -host.monotonicNanos();
    }

    /** Gives the kvm layer guest RAM, for the pvclock pages and the wall clock it writes. */
    public void attachMemory(GuestMemory memory) {
        this.memory = memory;
    }

    GuestMemory memory() {
        return memory;
    }

    public SimulatedHost host() {
        return host;
    }

    public List<KvmVcpu> vcpus() {
        return Collections.unmodifiableList(vcpus);
    }

    public KvmVcpu vcpu(int id) {
        if (id < 0 || id >= vcpus.size()) {
            throw new KvmException(Errno.ENOENT, "no vCPU " + id + " (the VM has " + vcpus.size() + ")");
        }
        return vcpus.get(id);
    }

    /**
     * KVM_SET_TSC_KHZ on the VM: the frequency new vCPUs get. Only before any vCPU exists
     * (EINVAL after, as in Linux); 0 means the host's.
     */
    public void setTscKhz(long khz) {
        if (!vcpus.isEmpty()) {
            throw new KvmException(Errno.EINVAL, "KVM_SET_TSC_KHZ on the VM after vCPUs were created");
        }
        checkTscKhz(khz);
        defaultTscKhz = khz == 0 ? host.tscKhz() : khz;
    }

    /** KVM_GET_TSC_KHZ on the VM. */
    public long getTscKhz() {
        return defaultTscKhz;
    }

    /** KVM_CREATE_VCPU: the vCPU gets the VM's TSC frequency, then a TSC write of 0 synchronizes it. */
    public KvmVcpu createVcpu() {
        KvmVcpu vcpu = new KvmVcpu(this, vcpus.size());
        vcpu.setTscKhz(defaultTscKhz);
        vcpus.add(vcpu);
        vcpu.synchronizeTsc(0, false);
        return vcpu;
    }

    /**
     * Whether the master clock can be used: every vCPU matched in the current TSC generation
     * and a stable host TSC (kvm_track_tsc_matching / pvclock_update_vm_gtod_copy).
     */
    public boolean masterClockUsable() {
        return !vcpus.isEmpty() && nrVcpusMatchedTsc + 1 == vcpus.size() && host.tscStable();
    }

    /** The current TSC generation (for tests and reports). */
    public long tscGeneration() {
        return curTscGeneration;
    }

    /** vCPUs that joined the current generation after the one that started it. */
    public int vcpusMatched() {
        return nrVcpusMatchedTsc;
    }

    // ---- kvmclock ------------------------------------------------------------------------

    /** Which scale the pvclock pages use (KVM's kHz-based one by default). */
    public PvclockMode pvclockMode() {
        return pvclockMode;
    }

    /** Chooses the pvclock scale and republishes every vCPU's pvclock page. */
    public void setPvclockMode(PvclockMode mode) {
        this.pvclockMode = mode;
        vcpus.forEach(KvmVcpu::guestTimeUpdate);
    }

    /** Whether the pvclock pages derive from one master reference now (TSC_STABLE set). */
    public boolean usesMasterClock() {
        return useMasterClock;
    }

    /**
     * pvclock_update_vm_gtod_copy: takes a new host reference (ns and TSC from one reading) and
     * decides whether the master clock is used: every vCPU matched, a stable host TSC, and the
     * boot vCPU not on the legacy kvmclock MSRs.
     */
    void updateGtodCopy() {
        SimulatedHost.Reading r = host.read();
        masterKernelNs = r.monotonicNanos();
        masterCycleNow = r.tsc();
        useMasterClock = masterClockUsable() && !bootVcpuRunsOldKvmclock;
    }

    /** kvmclock_update_work's delay: other vCPUs refresh their pvclock 100 ms after a global request. */
    public static final long KVMCLOCK_UPDATE_DELAY_NANOS = 100_000_000L;

    /**
     * KVM_REQ_GLOBAL_CLOCK_UPDATE (kvm_gen_kvmclock_update): the requesting vCPU refreshes its
     * pvclock now, every other vCPU at its first entry 100 ms later. Without the master clock
     * the pages then hold references taken at different times.
     */
    void globalClockUpdate(KvmVcpu requester) {
        requester.guestTimeUpdate();
        long due = host.monotonicNanos() + KVMCLOCK_UPDATE_DELAY_NANOS;
        for (KvmVcpu v : vcpus) {
            if (v != requester) {
                v.requestClockUpdate(due);
            }
        }
    }

    /** KVM_REQ_MASTERCLOCK_UPDATE: a new reference, then every vCPU's pvclock page. */
    void masterclockUpdate() {
        updateGtodCopy();
        vcpus.forEach(KvmVcpu::guestTimeUpdate);
    }

    /** kvm_track_tsc_matching, after a TSC write changed the generation bookkeeping. */
    void trackTscMatching(boolean newGeneration, KvmVcpu writer) {
        boolean usable = masterClockUsable() && !bootVcpuRunsOldKvmclock;
        if ((useMasterClock && newGeneration) || useMasterClock != usable) {
            masterclockUpdate();
        } else {
            writer.guestTimeUpdate();
        }
    }

    /** kvmclock ns at a host reading, the way KVM_GET_CLOCK computes it. */
    private long kvmclockAt(SimulatedHost.Reading r) {
        if (useMasterClock) {
            // Extrapolated from the master reference with the host's TSC-to-ns scale, which
            // KVM derives from the host's tsc_khz: it drifts from host ns if the TSC's true
            // frequency is not a whole number of kHz. The exact mode uses the true Hz here too,
            // so that KVM_GET_CLOCK and the guest's pvclock agree.
            long hostHz = pvclockMode == PvclockMode.EXACT ? host.tscHz() : host.tscKhz() * 1000;
            TscMath.TimeScale hostScale = TscMath.timeScale(1_000_000_000L, hostHz);
            return masterKernelNs + kvmclockOffset + hostScale.apply(r.tsc() - masterCycleNow);
        }
        return r.monotonicNanos() + kvmclockOffset;
    }

    /**
     * KVM_GET_CLOCK: kvmclock, flags, realtime and host TSC from one host reading. REALTIME and
     * HOST_TSC are given only with the master clock, as on a host whose clocksource is the TSC.
     */
    public ClockData getClock() {
        SimulatedHost.Reading r = host.read();
        if (useMasterClock) {
            return new ClockData(kvmclockAt(r), ClockData.TSC_STABLE | ClockData.REALTIME | ClockData.HOST_TSC,
                    r.realtimeNanos(), r.tsc());
        }
        return new ClockData(kvmclockAt(r), 0, 0, 0);
    }

    /**
     * KVM_SET_CLOCK: with REALTIME, the clock moves forward by the realtime that passed since
     * {@code data.realtime()} (never back); then kvmclock_offset = clock - host ns (the master
     * reference's ns when the master clock is used), and every pvclock page is republished.
     */
    public void setClock(ClockData data) {
        int valid = ClockData.TSC_STABLE | ClockData.REALTIME | ClockData.HOST_TSC;
        if ((data.flags() & ~valid) != 0) {
            throw new KvmException(Errno.EINVAL, "KVM_SET_CLOCK: unknown flags 0x" + Integer.toHexString(data.flags()));
        }
        updateGtodCopy();
        long clock = data.clock();
        if (data.has(ClockData.REALTIME)) {
            long nowRealtime = host.read().realtimeNanos();
            if (nowRealtime > data.realtime()) {
                clock += nowRealtime - data.realtime();
            }
        }
        long nowRaw = useMasterClock ? masterKernelNs : host.monotonicNanos();
        kvmclockOffset = clock - nowRaw;
        vcpus.forEach(KvmVcpu::guestTimeUpdate);
    }

    /** kvmclock_offset, for reports and tests. */
    public long kvmclockOffset() {
        return kvmclockOffset;
    }

    long wallClockMsr() {
        return wallClockMsr;
    }

    void setWallClockMsr(long value) {
        wallClockMsr = value;
    }

    /**
     * kvm_write_wall_clock: the realtime at which kvmclock was 0, as {u32 version, u32 sec,
     * u32 nsec} at {@code gpa}, under the odd/even version protocol. A GPA outside RAM is
     * ignored, as KVM's guest write would fail.
     */
    void writeWallClock(long gpa) {
        if (memory == null || !memory.contains(gpa, 12)) {
            return;
        }
        int version = memory.readInt(gpa);
        if ((version & 1) != 0) {
            version++;
        }
        version++;
        memory.writeInt(gpa, version);
        SimulatedHost.Reading r = host.read();
        long wallNanos = r.realtimeNanos() - kvmclockAt(r);
        memory.writeInt(gpa + 4, (int) Long.divideUnsigned(wallNanos, 1_000_000_000L));
        memory.writeInt(gpa + 8, (int) Long.remainderUnsigned(wallNanos, 1_000_000_000L));
        memory.writeInt(gpa, version + 1);
    }

    int[] nativeCpuid(int leaf, int subleaf) {
        return nativeCpuid.apply(leaf, subleaf);
    }

    /**
     * KVM's max_guest_tsc_khz: the frequency the largest ratio gives on this host, capped at
     * 0xffffffff kHz (VMX reaches the cap; SVM at 3 GHz about 768,000,000 kHz).
     */
    public long maxGuestTscKhz() {
        int frac = host.fracBits();
        long max = TscMath.scale(host.tscKhz(), TscMath.maxRatio(frac), frac);
        return Long.compareUnsigned(max, 0xffff_ffffL) > 0 || max < 0 ? 0xffff_ffffL : max;
    }

    void checkTscKhz(long khz) {
        if (khz < 0 || khz >= maxGuestTscKhz()) {
            throw new KvmException(Errno.EINVAL, "TSC frequency " + khz + " kHz out of range (this host gives at most "
                    + (maxGuestTscKhz() - 1) + " kHz)");
        }
    }
}

package dev.tickvm.kvm;

import dev.tickvm.host.SimulatedHost;
import dev.tickvm.memory.GuestMemory;
import dev.tickvm.trace.TraceEvent;
import dev.tickvm.trace.TraceRecord;
import dev.tickvm.trace.Tracer;
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
    /** Where the time events go (docs/TRACE.md); hooks test {@code tracer.enabled()} first. */
    Tracer tracer;

    // kvm_synchronize_tsc's VM-wide state (kvm->arch.*), see docs/TIME.md section 5.
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

    // kvmclock's VM-wide state (kvm->arch.*), see docs/TIME.md sections 6 and 7.
    private GuestMemory memory;
    long kvmclockOffset;
    boolean useMasterClock;
    long masterKernelNs;
    long masterCycleNow;
    boolean bootVcpuRunsOldKvmclock;
    private long wallClockMsr;
    private PvclockMode pvclockMode = PvclockMode.KVM_COMPAT;
    /** Host CLOCK_MONOTONIC at which the delayed works run, or -1 when not scheduled. */
    private long updateWorkDue = -1;
    private long syncWorkDue = -1;

    /**
     * @param nativeCpuid the CPU model's own CPUID answers (leaf, subleaf) -> {eax, ebx, ecx, edx},
     *                    which the vCPUs extend with KVM's bits
     */
    public KvmVm(SimulatedHost host, BiFunction<Integer, Integer, int[]> nativeCpuid) {
        this(host, nativeCpuid, Tracer.current());
    }

    /** As above, with the events going to {@code tracer} from the start. */
    public KvmVm(SimulatedHost host, BiFunction<Integer, Integer, int[]> nativeCpuid, Tracer tracer) {
        this.host = host;
        this.tracer = java.util.Objects.requireNonNull(tracer, "tracer");
        this.nativeCpuid = nativeCpuid;
        this.defaultTscKhz = host.tscKhz();
        // kvm_arch_init_vm: kvmclock reads 0 when the VM is created, and the first reference
        // finds no vCPU, so the master clock starts off.
        this.kvmclockOffset = -host.rawNanos();
        updateGtodCopy();
    }

    /** The tracer this VM's events go to ({@link Tracer#OFF} when not tracing). */
    public Tracer tracer() {
        return tracer;
    }

    /** Sends this VM's and its vCPUs' events to {@code tracer} from now on. */
    public void setTracer(Tracer tracer) {
        this.tracer = java.util.Objects.requireNonNull(tracer, "tracer");
    }

    /** Records {@code event} on {@code vcpu} ({@link TraceRecord#VM} for none) at the host's time now. Call it only when tracing. */
    void trace(int vcpu, TraceEvent event) {
        tracer.record(new TraceRecord(host.monotonicNanos(), host.trueNanos(), vcpu, event));
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
     * KVM_SET_TSC_KHZ on the VM (kvm_arch_vm_ioctl): the frequency new vCPUs get. The argument is
     * truncated to a u32; with TSC scaling it must be below max_guest_tsc_khz; 0 means the
     * host's; and it is EINVAL once any vCPU exists.
     */
    public void setTscKhz(long arg) {
        long khz = checkTscKhz(arg);
        if (!vcpus.isEmpty()) {
            throw new KvmException(Errno.EINVAL, "KVM_SET_TSC_KHZ on the VM after vCPUs were created");
        }
        defaultTscKhz = khz;
    }

    /** KVM_GET_TSC_KHZ on the VM. */
    public long getTscKhz() {
        return defaultTscKhz;
    }

    /**
     * KVM_CREATE_VCPU. kvm_arch_vcpu_create loads the vCPU for the first time (which queues a
     * global clock update) and gives it the VM's TSC frequency; the vCPU then counts as online;
     * kvm_arch_vcpu_postcreate loads it again and synchronizes its TSC with a write of 0, and,
     * for vCPU 0, starts the periodic kvmclock sync. Nothing runs the requests: the vCPU has
     * not entered the guest yet.
     */
    public KvmVcpu createVcpu() {
        runDueWork();
        KvmVcpu vcpu = new KvmVcpu(this, vcpus.size());
        vcpu.vcpuLoad();
        vcpu.applyTscKhz(defaultTscKhz);
        vcpus.add(vcpu);
        vcpu.vcpuLoad();
        vcpu.synchronizeTsc(0, false);
        if (vcpu.id() == 0) {
            scheduleSyncWork();
        }
        return vcpu;
    }

    /**
     * Whether the master clock could be used now: every vCPU matched in the current TSC
     * generation and a stable host TSC (kvm_track_tsc_matching's test). Whether it <em>is</em> used
     * is {@link #usesMasterClock()}, which changes only when a vCPU services the request.
     */
    public boolean masterClockUsable() {
        return allVcpusMatched() && host.tscStable();
    }

    /** nr_vcpus_matched_tsc + 1 == online_vcpus. */
    private boolean allVcpusMatched() {
        return !vcpus.isEmpty() && nrVcpusMatchedTsc + 1 == vcpus.size();
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

    /**
     * Chooses the pvclock scale (a tickvm option, not a KVM one). Every vCPU gets a CLOCK_UPDATE,
     * so each page takes the new scale at that vCPU's next entry.
     */
    public void setPvclockMode(PvclockMode mode) {
        runDueWork();
        this.pvclockMode = mode;
        requestAll(KvmRequest.CLOCK_UPDATE, "set_pvclock_mode");
    }

    /** Whether the pvclock pages derive from one master reference now (kvm->arch.use_master_clock). */
    public boolean usesMasterClock() {
        return useMasterClock;
    }

    /**
     * pvclock_update_vm_gtod_copy: takes a new host reference (raw ns and TSC from one reading,
     * kvm_get_time_and_clockread) and decides whether the master clock is used: every vCPU
     * matched, a TSC-based host clocksource, and the boot vCPU not on the legacy kvmclock MSRs.
     */
    void updateGtodCopy() {
        SimulatedHost.Reading r = host.read();
        masterKernelNs = r.rawNanos();
        masterCycleNow = r.tsc();
        useMasterClock = allVcpusMatched() && host.tscStable() && !bootVcpuRunsOldKvmclock;
        if (tracer.enabled()) {
            trace(TraceRecord.VM, new TraceEvent.UpdateMasterClock(useMasterClock, host.tscStable(), allVcpusMatched()));
        }
    }

    /** kvmclock_update_work's delay (KVMCLOCK_UPDATE_DELAY). */
    public static final long KVMCLOCK_UPDATE_DELAY_NANOS = 100_000_000L;
    /** kvmclock_sync_work's period (KVMCLOCK_SYNC_PERIOD). */
    public static final long KVMCLOCK_SYNC_PERIOD_NANOS = 300_000_000_000L;

    /** kvm_make_request on every vCPU, by the KVM function {@code by} (for the trace). */
    void requestAll(KvmRequest request, String by) {
        vcpus.forEach(v -> v.makeRequest(request, by));
    }

    /**
     * schedule_delayed_work(&kvmclock_update_work, delay): does nothing while the work is
     * already pending, so a burst of global updates gives one refresh 100 ms after the first.
     */
    void scheduleClockUpdateWork(long delayNanos) {
        if (updateWorkDue < 0) {
            updateWorkDue = host.monotonicNanos() + delayNanos;
        }
    }

    /** Host CLOCK_MONOTONIC at which kvmclock_update_work runs, or -1 when it is not pending. */
    public long clockUpdateWorkDue() {
        runDueWork();
        return updateWorkDue;
    }

    /** Host CLOCK_MONOTONIC at which kvmclock_sync_work runs next, or -1 before vCPU 0 exists. */
    public long clockSyncWorkDue() {
        runDueWork();
        return syncWorkDue;
    }

    /**
     * Runs the delayed works that are due: kvmclock_update_fn (CLOCK_UPDATE on every vCPU) and
     * kvmclock_sync_fn (every 300 s: the update work now, and itself again). tickvm has no
     * worker thread, so the kvm layer runs them whenever it is entered (an ioctl, a vCPU entry):
     * their only effect is requests, which nothing can observe before the next such entry.
     * Periods missed in between collapse into one, as the request bits would.
     */
    public void runDueWork() {
        long now = host.monotonicNanos();
        if (syncWorkDue >= 0 && syncWorkDue <= now) {
            long missed = (now - syncWorkDue) / KVMCLOCK_SYNC_PERIOD_NANOS;
            if (updateWorkDue < 0 || updateWorkDue > syncWorkDue) {
                updateWorkDue = syncWorkDue;
            }
            syncWorkDue += (missed + 1) * KVMCLOCK_SYNC_PERIOD_NANOS;
        }
        if (updateWorkDue >= 0 && updateWorkDue <= now) {
            updateWorkDue = -1;
            requestAll(KvmRequest.CLOCK_UPDATE, "kvmclock_update_fn");
        }
    }

    /** kvm_arch_vcpu_postcreate schedules the periodic sync when vCPU 0 is created. */
    private void scheduleSyncWork() {
        if (syncWorkDue < 0) {
            syncWorkDue = host.monotonicNanos() + KVMCLOCK_SYNC_PERIOD_NANOS;
        }
    }

    /**
     * kvm_update_masterclock (KVM_REQ_MASTERCLOCK_UPDATE): a new reference, then a CLOCK_UPDATE
     * request on every vCPU (kvm_end_pvclock_update): each page follows at its vCPU's next entry.
     */
    void updateMasterclock() {
        updateGtodCopy();
        requestAll(KvmRequest.CLOCK_UPDATE, "kvm_update_masterclock");
    }

    /**
     * kvm_track_tsc_matching, after a TSC write moved the generation bookkeeping: only a request
     * on the writer, and only when the master clock must toggle or a new generation starts while
     * it is on (compute_guest_tsc needs the reference taken after the new generation). It tests
     * the vCPUs and the host TSC, not the boot vCPU's legacy kvmclock, which only
     * pvclock_update_vm_gtod_copy honours.
     */
    void trackTscMatching(boolean newGeneration, KvmVcpu writer) {
        boolean usable = masterClockUsable();
        if (tracer.enabled()) {
            trace(writer.id(), new TraceEvent.TrackTsc(writer.id(), nrVcpusMatchedTsc, vcpus.size(), useMasterClock,
                    host.tscStable()));
        }
        if ((useMasterClock && newGeneration) || useMasterClock != usable) {
            writer.makeRequest(KvmRequest.MASTERCLOCK_UPDATE, "kvm_track_tsc_matching");
        }
    }

    /** kvmclock ns at a host reading, the way KVM_GET_CLOCK computes it (__get_kvmclock). */
    private long kvmclockAt(SimulatedHost.Reading r) {
        if (useMasterClock) {
            // Extrapolated from the master reference with the host's TSC-to-ns scale, which
            // KVM derives from the host's tsc_khz: it drifts from the raw clock, whose own
            // scale is the clocksource's. The exact mode uses the true Hz here too, so that
            // KVM_GET_CLOCK and the guest's pvclock agree.
            long hostHz = pvclockMode == PvclockMode.EXACT ? host.tscHz() : host.tscKhz() * 1000;
            TscMath.TimeScale hostScale = TscMath.timeScale(1_000_000_000L, hostHz);
            return masterKernelNs + kvmclockOffset + hostScale.apply(r.tsc() - masterCycleNow);
        }
        return r.rawNanos() + kvmclockOffset;
    }

    /**
     * KVM_GET_CLOCK (__get_kvmclock): kvmclock, flags, CLOCK_REALTIME and host TSC from one host
     * reading. REALTIME and HOST_TSC are given only with the master clock, as on a host whose
     * clocksource is the TSC.
     */
    public ClockData getClock() {
        runDueWork();
        SimulatedHost.Reading r = host.read();
        ClockData data = useMasterClock
                ? new ClockData(kvmclockAt(r), ClockData.TSC_STABLE | ClockData.REALTIME | ClockData.HOST_TSC,
                        r.realtimeNanos(), r.tsc())
                : new ClockData(kvmclockAt(r), 0, 0, 0);
        if (tracer.enabled()) {
            trace(TraceRecord.VM, new TraceEvent.GetClock(data.clock(), data.flags(), data.realtime(), data.hostTsc()));
        }
        return data;
    }

    /**
     * KVM_SET_CLOCK (kvm_vm_ioctl_set_clock): a new master reference now; with REALTIME, the
     * clock moves forward by the CLOCK_REALTIME that passed since {@code data.realtime()} (never
     * back); then kvmclock_offset = clock - raw ns (the reference's when the master clock is
     * used), and a CLOCK_UPDATE on every vCPU: the pages change at each vCPU's next entry.
     */
    public void setClock(ClockData data) {
        runDueWork();
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
        long nowRaw = useMasterClock ? masterKernelNs : host.rawNanos();
        kvmclockOffset = clock - nowRaw;
        if (tracer.enabled()) {
            trace(TraceRecord.VM, new TraceEvent.SetClock(data.clock(), data.flags(), data.realtime(), clock));
        }
        requestAll(KvmRequest.CLOCK_UPDATE, "kvm_vm_ioctl_set_clock");
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
     * kvm_write_wall_clock: the CLOCK_REALTIME at which kvmclock was 0
     * (kvm_get_wall_clock_epoch), as {u32 version, u32 sec, u32 nsec} at {@code gpa}, under the
     * odd/even version protocol. A GPA of 0 writes nothing; one outside RAM is ignored, as KVM's
     * failed guest access would be.
     */
    void writeWallClock(long gpa) {
        if (gpa == 0 || memory == null || !memory.contains(gpa, 12)) {
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

    /**
     * Whether the guest's CPUID vendor is Intel-compatible (guest_cpuid_is_intel_compatible):
     * tickvm gives a guest its host's vendor, Intel on a VMX host and AMD on an SVM one.
     */
    public boolean guestIntelCompatible() {
        return host.fracBits() == TscMath.VMX_FRAC_BITS;
    }

    int[] nativeCpuid(int leaf, int subleaf) {
        return nativeCpuid.apply(leaf, subleaf);
    }

    /**
     * kvm_caps.max_guest_tsc_khz: the frequency the largest ratio gives on this host, capped at
     * 0x7fffffff kHz so that it fits a signed int (both VMX and SVM reach the cap at 3 GHz).
     * Without TSC scaling there is no such limit.
     */
    public long maxGuestTscKhz() {
        int frac = host.fracBits();
        long max = TscMath.scale(host.tscKhz(), TscMath.maxRatio(frac), frac);
        return Long.compareUnsigned(max, 0x7fff_ffffL) > 0 ? 0x7fff_ffffL : max;
    }

    /**
     * KVM_SET_TSC_KHZ's argument checks, on the VM or a vCPU: the ioctl argument is truncated to
     * a u32 (user_tsc_khz), must be below max_guest_tsc_khz when the host scales TSCs, and 0
     * means the host's tsc_khz. Returns the frequency to use.
     */
    long checkTscKhz(long arg) {
        long khz = arg & 0xffff_ffffL;
        if (host.tscScaling() && khz >= maxGuestTscKhz()) {
            throw new KvmException(Errno.EINVAL, "TSC frequency " + khz + " kHz out of range (this host gives at most "
                    + (maxGuestTscKhz() - 1) + " kHz)" + (khz != arg ? "; the argument " + arg + " was truncated to u32" : ""));
        }
        return khz == 0 ? host.tscKhz() : khz;
    }
}

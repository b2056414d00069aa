package dev.tickvm.kvm;

import dev.tickvm.cpu.TrapEmulator;
import dev.tickvm.cpu.UnknownMsrException;
import dev.tickvm.host.SimulatedHost;
import dev.tickvm.trace.TraceEvent;
import java.util.EnumSet;

/**
 * The kernel half of a vCPU, for time: KVM's per-vCPU TSC state, the guest-visible emulation of
 * RDTSC/RDTSCP/RDMSR/WRMSR/CPUID ({@link TrapEmulator}), and the vCPU ioctls. The guest TSC is
 * {@code scale(host_tsc, ratio) + offset} (docs/TIME.md section 1); tickvm has no nested
 * virtualization, so KVM's L1 and active values are the same here.
 */
public final class KvmVcpu implements TrapEmulator {
    private final KvmVm vm;
    private final SimulatedHost host;
    private final int id;

    private long virtualTscKhz;
    private long tscRatio;
    private TscMath.TimeScale nsecToCycles;
    private long tscOffset;
    private long tscAdjust;
    private long tscAux;
    private long thisTscGeneration = -1;
    private long systemTimeMsr;
    private Pvclock pvclock;
    private boolean guestStoppedRequest;
    /** Requests queued for this vCPU's next entry (vcpu->requests). */
    private final EnumSet<KvmRequest> requests = EnumSet.noneOf(KvmRequest.class);
    /** vcpu->cpu != -1: the vCPU has been loaded once. tickvm keeps each vCPU on one host CPU. */
    private boolean loaded;
    /** The guest TSC at the last exit, time update or TSC write (vcpu->arch.last_guest_tsc). */
    private long lastGuestTsc;
    /** The generation's reference, for compute_guest_tsc (this_tsc_nsec, this_tsc_write). */
    private long thisTscNsec;
    private long thisTscWrite;
    /** Catch the TSC up to the generation's rate at each time update (unstable or unscaled hosts). */
    private boolean tscCatchup;
    /** ... and request a time update after every exit (a guest faster than an unscaled host). */
    private boolean tscAlwaysCatchup;
    private boolean entered;

    KvmVcpu(KvmVm vm, int id) {
        this.vm = vm;
        this.host = vm.host();
        this.id = id;
        this.tscRatio = TscMath.defaultRatio(host.fracBits());
    }

    public int id() {
        return id;
    }

    // ---- the guest's view ----------------------------------------------------------------

    /** The guest TSC now: {@code ((host_tsc * ratio) >> frac_bits) + offset}. */
    @Override
    public long readTsc() {
        return guestTscAt(host.tsc());
    }

    /** The guest TSC at a given host TSC value. */
    public long guestTscAt(long hostTsc) {
        return TscMath.scale(hostTsc, tscRatio, host.fracBits()) + tscOffset;
    }

    @Override
    public long readTscAux() {
        return tscAux;
    }

    /**
     * A guest RDMSR: an exit to KVM, the read, and the entry that services requests. Reads of
     * IA32_TSC do not exit (VMX passes them through, offset and scaled like RDTSC), so they
     * service nothing.
     */
    @Override
    public long readMsr(int index) {
        if (index == Msr.IA32_TSC) {
            return readTsc();
        }
        exitToKvm();
        if (!Msr.isTimeMsr(index)) {
            throw new UnknownMsrException(index, "not emulated by KVM here (#GP)");
        }
        long value = timeMsr(index);
        if (vm.tracer.enabled()) {
            traceMsr(false, false, index, value);
        }
        enterGuest();
        return value;
    }

    /** The value of one of the time MSRs; guest and host reads see the same values here. */
    private long timeMsr(int index) {
        return switch (index) {
            case Msr.IA32_TSC -> readTsc();
            case Msr.IA32_TSC_ADJUST -> tscAdjust;
            case Msr.TSC_AUX -> tscAux;
            case Msr.KVM_SYSTEM_TIME, Msr.KVM_SYSTEM_TIME_NEW -> systemTimeMsr;
            case Msr.KVM_WALL_CLOCK, Msr.KVM_WALL_CLOCK_NEW -> vm.wallClockMsr();
            default -> throw new IllegalArgumentException(Msr.name(index));
        };
    }

    /**
     * A guest WRMSR (kvm_set_msr_common, not host-initiated): an exit to KVM, the write, and the
     * entry that services what the write requested.
     */
    @Override
    public void writeMsr(int index, long value) {
        exitToKvm();
        switch (index) {
            case Msr.IA32_TSC -> {
                // The guest moves its own TSC: the offset absorbs the step and TSC_ADJUST records
                // it. No clock update is requested, so until the next one the guest's kvmclock
                // jumps with its TSC.
                long adjustment = value - readTsc();
                writeTscOffset(tscOffset + adjustment);
                tscAdjust += adjustment;
            }
            case Msr.IA32_TSC_ADJUST -> {
                // Here KVM does request an update, so that tsc_timestamp follows the offset.
                writeTscOffset(tscOffset + value - tscAdjust);
                tscAdjust = value;
                makeRequest(KvmRequest.CLOCK_UPDATE, "kvm_set_msr_common");
            }
            case Msr.TSC_AUX -> {
                if (value >>> 32 != 0 && vm.guestIntelCompatible()) {
                    throw new UnknownMsrException(index, "reserved bits 63:32 set in 0x" + Long.toHexString(value) + " (#GP)");
                }
                tscAux = value & 0xffff_ffffL;
            }
            case Msr.KVM_SYSTEM_TIME -> writeSystemTime(value, true, false);
            case Msr.KVM_SYSTEM_TIME_NEW -> writeSystemTime(value, false, false);
            case Msr.KVM_WALL_CLOCK, Msr.KVM_WALL_CLOCK_NEW -> {
                vm.setWallClockMsr(value);
                vm.writeWallClock(value);
            }
            default -> throw new UnknownMsrException(index, "not emulated by KVM here (#GP)");
        }
        if (vm.tracer.enabled()) {
            traceMsr(true, false, index, value);
        }
        enterGuest();
    }

    private void traceMsr(boolean write, boolean hostInitiated, int index, long value) {
        vm.trace(id, new TraceEvent.Msr(id, write, hostInitiated, index, Msr.shortName(index), value));
    }

    /** Whether this vCPU's events are recorded (the VM's tracer is on). */
    @Override
    public boolean tracing() {
        return vm.tracer.enabled();
    }

    /** Records an event of the vCPU half (a trap, an exit) at the host's time now. */
    @Override
    public void trace(TraceEvent event) {
        vm.trace(id, event);
    }

    /** kvm_vcpu_write_tsc_offset: every change of the offset goes through here, and into the trace. */
    private void writeTscOffset(long next) {
        if (vm.tracer.enabled()) {
            vm.trace(id, new TraceEvent.WriteTscOffset(id, tscOffset, next));
        }
        tscOffset = next;
    }

    /** A guest CPUID: an exit to KVM and back. */
    @Override
    public int[] cpuid(int leaf, int subleaf) {
        exitToKvm();
        int[] answer = Cpuid.answer(this, leaf, subleaf);
        enterGuest();
        return answer;
    }

    KvmVm vm() {
        return vm;
    }

    // ---- the control plane (ioctl-like) ----------------------------------------------------

    /** KVM_GET_MSRS (host-initiated). IA32_TSC reads the guest TSC. */
    public long getMsr(int index) {
        ioctl();
        if (!Msr.isTimeMsr(index)) {
            throw new KvmException(Errno.EINVAL, "KVM_GET_MSRS: " + Msr.name(index) + " is not supported");
        }
        long value = timeMsr(index);
        if (vm.tracer.enabled()) {
            traceMsr(false, true, index, value);
        }
        return value;
    }

    /**
     * KVM_SET_MSRS (host-initiated): IA32_TSC synchronizes (docs/TIME.md section 5) and leaves
     * TSC_ADJUST alone; TSC_ADJUST and TSC_AUX are stored without touching the TSC; the wall
     * clock MSRs write the wall clock into guest RAM just as a guest write does.
     */
    public void setMsr(int index, long value) {
        ioctl();
        if (vm.tracer.enabled() && (Msr.isTimeMsr(index))) {
            traceMsr(true, true, index, value);
        }
        switch (index) {
            case Msr.IA32_TSC -> synchronizeTsc(value, true);
            case Msr.IA32_TSC_ADJUST -> tscAdjust = value;
            case Msr.TSC_AUX -> {
                // Reserved for an Intel-compatible guest, host writes included; an AMD one
                // ignores bits 63:32, so KVM clears them for a consistent cross-vendor view.
                if (value >>> 32 != 0 && vm.guestIntelCompatible()) {
                    throw new KvmException(Errno.EINVAL, "KVM_SET_MSRS: TSC_AUX bits 63:32 are reserved, got 0x"
                            + Long.toHexString(value));
                }
                tscAux = value & 0xffff_ffffL;
            }
            case Msr.KVM_SYSTEM_TIME -> writeSystemTime(value, true, true);
            case Msr.KVM_SYSTEM_TIME_NEW -> writeSystemTime(value, false, true);
            // kvm_set_msr_common has no host_initiated test here: the VMM's write publishes too.
            case Msr.KVM_WALL_CLOCK, Msr.KVM_WALL_CLOCK_NEW -> {
                vm.setWallClockMsr(value);
                vm.writeWallClock(value);
            }
            default -> throw new KvmException(Errno.EINVAL, "KVM_SET_MSRS: " + Msr.name(index) + " is not supported");
        }
    }

    /** KVM_GET_TSC_KHZ on the vCPU: virtual_tsc_khz. */
    public long getTscKhz() {
        ioctl();
        return virtualTscKhz;
    }

    /** KVM_SET_TSC_KHZ on the vCPU: the u32 argument checks, then kvm_set_tsc_khz. */
    public void setTscKhz(long arg) {
        ioctl();
        applyTscKhz(vm.checkTscKhz(arg));
    }

    /**
     * kvm_set_tsc_khz and set_tsc_khz: the new frequency and its ns-to-cycles scale are taken
     * first, then the multiplier, which stays the default within 250 ppm of the host's tsc_khz.
     * A host that cannot scale catches a faster guest up at every entry and refuses a slower
     * one; a ratio outside the CPU's range is refused. KVM has already changed
     * virtual_tsc_khz when it refuses, and so does this. No clock update is requested.
     */
    void applyTscKhz(long userKhz) {
        long hostKhz = host.tscKhz();
        int frac = host.fracBits();
        virtualTscKhz = userKhz;
        nsecToCycles = TscMath.timeScale(userKhz * 1000, 1_000_000_000L);
        if (TscMath.withinTolerance(userKhz, hostKhz)) {
            tscRatio = TscMath.defaultRatio(frac);
            return;
        }
        if (!host.tscScaling()) {
            if (userKhz > hostKhz) {
                tscCatchup = true;
                tscAlwaysCatchup = true;
                return;
            }
            throw new KvmException(Errno.EINVAL, "KVM_SET_TSC_KHZ: " + userKhz + " kHz is below this host's " + hostKhz
                    + " kHz and the host cannot scale the TSC");
        }
        long ratio;
        try {
            ratio = TscMath.ratio(userKhz, hostKhz, frac);
        } catch (ArithmeticException e) {
            ratio = 0;
        }
        if (ratio == 0 || Long.compareUnsigned(ratio, TscMath.maxRatio(frac)) >= 0) {
            throw new KvmException(Errno.EINVAL, String.format(
                    "TSC scaling ratio 0x%x for %d kHz on a %d kHz host is outside the CPU's range", ratio, userKhz,
                    hostKhz));
        }
        tscRatio = ratio;
    }

    /** The TSC multiplier in use (the default ratio means no scaling). */
    public long tscRatio() {
        return tscRatio;
    }

    /** The TSC offset in use. */
    public long tscOffset() {
        return tscOffset;
    }

    /** KVM_GET_DEVICE_ATTR for a u64 attribute of KVM_VCPU_TSC_CTRL. */
    public long getAttr(int group, int attribute) {
        ioctl();
        checkAttr(group, attribute);
        return tscOffset;
    }

    /**
     * KVM_SET_DEVICE_ATTR for a u64 attribute of KVM_VCPU_TSC_CTRL. Setting TSC_OFFSET joins the
     * current generation when the kHz and offset match the last write (kvm_arch_tsc_set_attr).
     */
    public void setAttr(int group, int attribute, long value) {
        ioctl();
        checkAttr(group, attribute);
        boolean matched = virtualTscKhz != 0 && vm.lastTscKhz == virtualTscKhz && vm.lastTscOffset == value;
        long now = host.rawNanos();
        long tsc = TscMath.scale(host.tsc(), tscRatio, host.fracBits()) + value;
        vm.userSetTsc = true;
        commitTscWrite(value, tsc, now, matched);
    }

    // ---- the proposed interfaces (docs/TIME.md section 7) ------------------------------------

    /** KVM_VCPU_TSC_VALUE's payload: a guest TSC and the kvmclock ns it goes with. */
    public record TscValue(long tsc, long kvmNs) {
    }

    /** KVM_VCPU_TSC_SCALE's payload: the vCPU's TSC multiplier and its fractional bits. */
    public record TscScale(long ratio, int fracBits) {
    }

    /**
     * KVM_GET_DEVICE_ATTR KVM_VCPU_TSC_VALUE (Simon Veith's proposal, v2 2023): from one
     * KVM_GET_CLOCK reading, the guest TSC at its host TSC and the kvmclock it gives.
     */
    public TscValue getTscValue() {
        ioctl();
        ClockData clock = vm.getClock();
        long hostTsc = clock.has(ClockData.HOST_TSC) ? clock.hostTsc() : host.tsc();
        return new TscValue(TscMath.scale(hostTsc, tscRatio, host.fracBits()) + tscOffset, clock.clock());
    }

    /**
     * KVM_SET_DEVICE_ATTR KVM_VCPU_TSC_VALUE: the TSC given, advanced by the kvmclock that passed
     * since {@code kvmNs} (nsec_to_cycles, at this vCPU's frequency; a kvmNs in the future moves it
     * back as much), then kvm_synchronize_tsc as a userspace write, without the write-of-0 rule.
     */
    public void setTscValue(TscValue value) {
        ioctl();
        long elapsed = vm.getClock().clock() - value.kvmNs();
        long cycles = elapsed >= 0 ? nsecToCycles.apply(elapsed) : -nsecToCycles.apply(-elapsed);
        synchronizeTsc(value.tsc() + cycles, true, false);
    }

    /** KVM_GET_DEVICE_ATTR KVM_VCPU_TSC_SCALE (David Woodhouse's series): ENXIO without TSC scaling. */
    public TscScale getTscScale() {
        ioctl();
        if (!host.tscScaling()) {
            throw new KvmException(Errno.ENXIO, "KVM_VCPU_TSC_SCALE: this host cannot scale TSCs");
        }
        return new TscScale(tscRatio, host.fracBits());
    }

    /**
     * KVM_GET_CLOCK_GUEST (Jack Allister and David Woodhouse's series): the pvclock this vCPU's
     * guest uses, from the master reference, whether or not the guest enabled its page. EINVAL
     * without the master clock (no single TSC-to-kvmclock function then).
     */
    public Pvclock getClockGuest() {
        ioctl();
        if (!vm.useMasterClock) {
            throw new KvmException(Errno.EINVAL, "KVM_GET_CLOCK_GUEST: the master clock is off");
        }
        TscMath.TimeScale scale = TscMath.timeScale(1_000_000_000L, pvclockTscHz());
        return new Pvclock(0, guestTscAt(vm.masterCycleNow), vm.masterKernelNs + vm.kvmclockOffset, (int) scale.mul(),
                scale.shift(), Pvclock.TSC_STABLE_BIT);
    }

    /**
     * KVM_SET_CLOCK_GUEST: moves kvmclock so that, at a new master reference, it equals what
     * {@code guest} gives for this vCPU's TSC then: the guest's kvmclock stays the same function
     * of its TSC. EINVAL for mul 0, a shift outside [-31, 31] or no master clock; ERANGE when the
     * frequency (mul, shift) implies is more than 1 kHz from this vCPU's.
     */
    public void setClockGuest(Pvclock guest) {
        ioctl();
        if (guest.mul() == 0 || guest.shift() < -31 || guest.shift() > 31) {
            throw new KvmException(Errno.EINVAL, "KVM_SET_CLOCK_GUEST: mul " + Integer.toUnsignedString(guest.mul())
                    + ", shift " + guest.shift());
        }
        long implied = impliedHz(guest.mul() & 0xffff_ffffL, guest.shift());
        long own = Math.max(TscMath.scale(host.tscKhz(), tscRatio, host.fracBits()), 1) * 1000;
        if (Math.abs(implied - own) > 1000) {
            throw new KvmException(Errno.ERANGE, String.format("KVM_SET_CLOCK_GUEST: the pvclock's %,d Hz is more than"
                    + " 1 kHz from this vCPU's %,d Hz", implied, own));
        }
        vm.runDueWork();
        vm.updateGtodCopy();
        if (!vm.useMasterClock) {
            throw new KvmException(Errno.EINVAL, "KVM_SET_CLOCK_GUEST: the master clock is off");
        }
        long g = guestTscAt(vm.masterCycleNow);
        vm.kvmclockOffset = guest.nanosAt(g) - vm.masterKernelNs;
        vm.requestAll(KvmRequest.CLOCK_UPDATE, "kvm_vcpu_ioctl_set_clock_guest");
    }

    /** The TSC Hz a (mul, shift) pvclock converts from: 1e9 * 2^32 / (mul * 2^shift), rounded down. */
    static long impliedHz(long mul, int shift) {
        java.math.BigInteger num = java.math.BigInteger.valueOf(1_000_000_000L).shiftLeft(32);
        java.math.BigInteger den = java.math.BigInteger.valueOf(mul);
        if (shift >= 0) {
            den = den.shiftLeft(shift);
        } else {
            num = num.shiftLeft(-shift);
        }
        return num.divide(den).longValue();
    }

    private static void checkAttr(int group, int attribute) {
        if (group != TscAttribute.GROUP_TSC_CTRL) {
            throw new KvmException(Errno.ENXIO, "attribute group " + group + " is not supported");
        }
        if (attribute != TscAttribute.TSC_OFFSET) {
            throw new KvmException(Errno.ENXIO, "KVM_VCPU_TSC_CTRL attribute " + attribute + " is not supported");
        }
    }

    // ---- kvm_synchronize_tsc -------------------------------------------------------------

    /**
     * A TSC write from the host side: on vCPU creation ({@code data} 0, not user-initiated) and
     * for each host-initiated IA32_TSC write. docs/TIME.md section 5, as Linux's kvm_synchronize_tsc.
     */
    void synchronizeTsc(long data, boolean userInitiated) {
        synchronizeTsc(data, userInitiated, true);
    }

    /** As above; {@code zeroSynchronizes} false drops the write-of-0 shortcut (KVM_VCPU_TSC_VALUE). */
    private void synchronizeTsc(long data, boolean userInitiated, boolean zeroSynchronizes) {
        SimulatedHost.Reading r = host.read();
        long now = r.rawNanos();
        long hostTsc = r.tsc();
        long offset = data - TscMath.scale(hostTsc, tscRatio, host.fracBits());
        long elapsed = now - vm.lastTscNsec;
        boolean synchronizing = false;
        if (virtualTscKhz != 0) {
            if (data == 0 && zeroSynchronizes) {
                // Creation, or userspace explicitly writing zero: always a synchronization.
                synchronizing = true;
            } else if (vm.userSetTsc) {
                // Within one second of virtual cycles of the expected value: meant to be in sync.
                long expected = vm.lastTscWrite + nsecToCycles.apply(elapsed);
                long hz = virtualTscKhz * 1000;
                // u64 comparisons, as Linux's: a value near 2^64 is far from a small one.
                synchronizing = Long.compareUnsigned(data, expected + hz) < 0
                        && Long.compareUnsigned(data + hz, expected) > 0;
            }
        }
        if (userInitiated) {
            vm.userSetTsc = true;
        }
        boolean matched = false;
        if (synchronizing && virtualTscKhz == vm.lastTscKhz) {
            if (host.tscStable()) {
                offset = vm.curTscOffset;
            } else {
                data += nsecToCycles.apply(elapsed);
                offset = data - TscMath.scale(hostTsc, tscRatio, host.fracBits());
            }
            matched = true;
        }
        commitTscWrite(offset, data, now, matched);
    }

    /** __kvm_synchronize_tsc: records the write and moves the generation bookkeeping. */
    private void commitTscWrite(long offset, long tsc, long now, boolean matched) {
        vm.lastTscNsec = now;
        vm.lastTscWrite = tsc;
        vm.lastTscKhz = virtualTscKhz;
        vm.lastTscOffset = offset;
        lastGuestTsc = tsc;
        writeTscOffset(offset);
        if (!matched) {
            vm.curTscGeneration++;
            vm.curTscNsec = now;
            vm.curTscWrite = tsc;
            vm.curTscOffset = offset;
            vm.nrVcpusMatchedTsc = 0;
        } else if (thisTscGeneration != vm.curTscGeneration) {
            vm.nrVcpusMatchedTsc++;
        }
        thisTscGeneration = vm.curTscGeneration;
        thisTscNsec = vm.curTscNsec;
        thisTscWrite = vm.curTscWrite;
        vm.trackTscMatching(!matched, this);
    }

    // ---- kvmclock ------------------------------------------------------------------------

    /**
     * kvm_write_system_time: stores the MSR (bit 0 enables the pvclock page at the rest of the
     * value, at once) and always queues a global clock update. The boot vCPU's own switch
     * between the legacy and new MSRs also queues a master clock update: the legacy MSR rules
     * the master clock out.
     */
    private void writeSystemTime(long value, boolean legacy, boolean hostInitiated) {
        if (id == 0 && !hostInitiated) {
            if (vm.bootVcpuRunsOldKvmclock != legacy) {
                makeRequest(KvmRequest.MASTERCLOCK_UPDATE, "kvm_write_system_time");
            }
            vm.bootVcpuRunsOldKvmclock = legacy;
        }
        systemTimeMsr = value;
        makeRequest(KvmRequest.GLOBAL_CLOCK_UPDATE, "kvm_write_system_time");
    }

    /**
     * KVM_KVMCLOCK_CTRL (kvm_set_guest_paused): PVCLOCK_GUEST_STOPPED goes into the pvclock page
     * at the next time update, so the guest's soft-lockup watchdog does not fire. The guest
     * clears the bit.
     */
    public void kvmclockCtrl() {
        ioctl();
        if (!pvclockEnabled()) {
            throw new KvmException(Errno.EINVAL, "KVM_KVMCLOCK_CTRL: vCPU " + id + " has no kvmclock page");
        }
        guestStoppedRequest = true;
        makeRequest(KvmRequest.CLOCK_UPDATE, "kvm_set_guest_paused");
    }

    /** kvm_make_request, by the KVM function {@code by} (for the trace). */
    void makeRequest(KvmRequest request, String by) {
        if (vm.tracer.enabled()) {
            vm.trace(id, new TraceEvent.Request(id, request.name(), by));
        }
        requests.add(request);
    }

    /** The requests queued for this vCPU's next entry, as {@link KvmRequest#bit}s. */
    public int pendingRequests() {
        vm.runDueWork();
        int mask = 0;
        for (KvmRequest r : requests) {
            mask |= r.bit;
        }
        return mask;
    }

    /** Whether this vCPU has ever entered the guest (a freshly created restore target has not). */
    public boolean hasRun() {
        return entered;
    }

    /** Every vCPU ioctl starts with vcpu_load; the kvm layer's delayed works run first. */
    private void ioctl() {
        vm.runDueWork();
        vcpuLoad();
    }

    /**
     * kvm_arch_vcpu_load. The first load (vcpu->cpu == -1, during KVM_CREATE_VCPU) queues a
     * global clock update. On an unstable host TSC every load does: the offset is rebased so
     * the guest TSC resumes at last_guest_tsc (time spent outside the guest disappears), and
     * tsc_catchup makes the next time update catch it up to the generation's rate. tickvm keeps
     * each vCPU on one host CPU, so a stable host sees only the first load's request.
     */
    void vcpuLoad() {
        boolean unstable = !host.tscStable();
        if (!loaded || unstable) {
            if (unstable) {
                writeTscOffset(lastGuestTsc - TscMath.scale(host.tsc(), tscRatio, host.fracBits()));
                tscCatchup = true;
            }
            if (!vm.useMasterClock || !loaded) {
                makeRequest(KvmRequest.GLOBAL_CLOCK_UPDATE, "kvm_arch_vcpu_load");
            }
            loaded = true;
        }
    }

    /** The scheduler enters this vCPU (a KVM_RUN turn): vcpu_load, then vcpu_enter_guest. */
    @Override
    public void beforeEntry() {
        vm.runDueWork();
        vcpuLoad();
        enterGuest();
    }

    /** The vCPU left the guest at the end of its scheduling turn. */
    @Override
    public void afterExit() {
        exitToKvm();
    }

    /**
     * What vcpu_enter_guest does after a VM exit: last_guest_tsc is the guest TSC now, and a
     * vCPU that is always caught up asks for a time update at its next entry.
     */
    private void exitToKvm() {
        lastGuestTsc = readTsc();
        if (tscAlwaysCatchup) {
            makeRequest(KvmRequest.CLOCK_UPDATE, "vcpu_enter_guest");
        }
    }

    /**
     * vcpu_enter_guest's request servicing, in its order: the master clock update (which asks
     * every vCPU for a clock update), the global update (a clock update here now and on every
     * vCPU 100 ms later, kvm_gen_kvmclock_update), then this vCPU's clock update.
     */
    private void enterGuest() {
        entered = true;
        vm.runDueWork();
        if (requests.isEmpty()) {
            return;
        }
        if (requests.remove(KvmRequest.MASTERCLOCK_UPDATE)) {
            traceServiced(KvmRequest.MASTERCLOCK_UPDATE);
            vm.updateMasterclock();
        }
        if (requests.remove(KvmRequest.GLOBAL_CLOCK_UPDATE)) {
            traceServiced(KvmRequest.GLOBAL_CLOCK_UPDATE);
            makeRequest(KvmRequest.CLOCK_UPDATE, "kvm_gen_kvmclock_update");
            vm.scheduleClockUpdateWork(KvmVm.KVMCLOCK_UPDATE_DELAY_NANOS);
        }
        if (requests.remove(KvmRequest.CLOCK_UPDATE)) {
            traceServiced(KvmRequest.CLOCK_UPDATE);
            guestTimeUpdate();
        }
    }

    private void traceServiced(KvmRequest request) {
        if (vm.tracer.enabled()) {
            vm.trace(id, new TraceEvent.RequestServiced(id, request.name()));
        }
    }

    /** Whether this vCPU's pvclock page is enabled and lies where KVM can write it. */
    public boolean pvclockEnabled() {
        return (systemTimeMsr & 1) != 0 && vm.memory() != null && Pvclock.placeable(vm.memory(), systemTimeMsr & ~1L);
    }

    /** What was last published on this vCPU's pvclock page, or null. */
    public Pvclock pvclock() {
        return pvclock;
    }

    /**
     * kvm_guest_time_update: the reference (the master one, or a fresh raw reading), the TSC
     * catch-up when this vCPU needs it (compute_guest_tsc: only forward, through the offset),
     * last_guest_tsc, and the pvclock page if the guest enabled one. With the master clock
     * every vCPU uses the same reference and the TSC_STABLE bit.
     */
    void guestTimeUpdate() {
        boolean master = vm.useMasterClock;
        long hostTsc;
        long kernelNs;
        if (master) {
            hostTsc = vm.masterCycleNow;
            kernelNs = vm.masterKernelNs;
        } else {
            SimulatedHost.Reading r = host.read();
            hostTsc = r.tsc();
            kernelNs = r.rawNanos();
        }
        long tscTimestamp = guestTscAt(hostTsc);
        if (tscCatchup) {
            long tsc = computeGuestTsc(kernelNs);
            if (Long.compareUnsigned(tsc, tscTimestamp) > 0) {
                writeTscOffset(tscOffset + tsc - tscTimestamp);
                tscTimestamp = tsc;
            }
        }
        lastGuestTsc = tscTimestamp;
        if (!pvclockEnabled()) {
            return;
        }
        TscMath.TimeScale scale = TscMath.timeScale(1_000_000_000L, pvclockTscHz());
        int flags = (master ? Pvclock.TSC_STABLE_BIT : 0) | (guestStoppedRequest ? Pvclock.GUEST_STOPPED_BIT : 0);
        guestStoppedRequest = false;
        pvclock = Pvclock.publish(vm.memory(), systemTimeMsr & ~1L, tscTimestamp, kernelNs + vm.kvmclockOffset, scale,
                flags);
        if (vm.tracer.enabled()) {
            vm.trace(id, new TraceEvent.PvclockUpdate(id, pvclock.version(), pvclock.tscTimestamp(), pvclock.systemTime(),
                    pvclock.mul(), pvclock.shift(), pvclock.flags()));
        }
    }

    /** compute_guest_tsc: the generation's write plus the cycles of the raw ns since it. */
    private long computeGuestTsc(long kernelNs) {
        return thisTscWrite + nsecToCycles.apply(kernelNs - thisTscNsec);
    }

    /**
     * The guest TSC frequency the pvclock scale is derived from. KVM: the host's tsc_khz scaled
     * by the ratio when the host scales TSCs (1 kHz if that rounds to 0), the host's tsc_khz
     * unscaled otherwise, in whole kHz. Exact (tickvm's option): the crystal's true Hz scaled.
     */
    public long pvclockTscHz() {
        boolean scaled = host.tscScaling();
        if (vm.pvclockMode() == PvclockMode.KVM_COMPAT) {
            long khz = scaled ? TscMath.scale(host.tscKhz(), tscRatio, host.fracBits()) : host.tscKhz();
            return Math.max(khz, 1) * 1000;
        }
        long hz = scaled ? TscMath.scale(host.tscHz(), tscRatio, host.fracBits()) : host.tscHz();
        return Math.max(hz, 1);
    }

    /** The TSC generation this vCPU last synchronized to. */
    public long tscGeneration() {
        return thisTscGeneration;
    }

    /** Whether the next time updates catch this vCPU's TSC up (tsc_catchup, tsc_always_catchup). */
    public boolean tscCatchup() {
        return tscCatchup;
    }

    public boolean tscAlwaysCatchup() {
        return tscAlwaysCatchup;
    }
}

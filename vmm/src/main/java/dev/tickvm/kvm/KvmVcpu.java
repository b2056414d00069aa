package dev.tickvm.kvm;

import dev.tickvm.cpu.TrapEmulator;
import dev.tickvm.cpu.UnknownMsrException;
import dev.tickvm.host.SimulatedHost;

/**
 * The kernel half of a vCPU, for time: KVM's per-vCPU TSC state, the guest-visible emulation of
 * RDTSC/RDTSCP/RDMSR/WRMSR/CPUID ({@link TrapEmulator}), and the vCPU ioctls. The guest TSC is
 * {@code scale(host_tsc, ratio) + offset} (TIME.md section 1); tickvm has no nested
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
    /** Host ns at which a requested clock update becomes due at the next entry, or -1. */
    private long clockUpdateDue = -1;
    private boolean guestStoppedRequest;

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

    @Override
    public long readMsr(int index) {
        if (!Msr.isTimeMsr(index)) {
            throw new UnknownMsrException(index, "not emulated by KVM here (#GP)");
        }
        return timeMsr(index);
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

    @Override
    public void writeMsr(int index, long value) {
        switch (index) {
            case Msr.IA32_TSC -> {
                // The guest moves its own TSC: the offset absorbs the step and TSC_ADJUST records it.
                long adjustment = value - readTsc();
                tscOffset += adjustment;
                tscAdjust += adjustment;
                guestTimeUpdate();
            }
            case Msr.IA32_TSC_ADJUST -> {
                tscOffset += value - tscAdjust;
                tscAdjust = value;
                guestTimeUpdate();
            }
            case Msr.TSC_AUX -> {
                if (value >>> 32 != 0) {
                    throw new UnknownMsrException(index, "reserved bits 63:32 set in 0x" + Long.toHexString(value) + " (#GP)");
                }
                tscAux = value;
            }
            case Msr.KVM_SYSTEM_TIME -> writeSystemTime(value, true, false);
            case Msr.KVM_SYSTEM_TIME_NEW -> writeSystemTime(value, false, false);
            case Msr.KVM_WALL_CLOCK, Msr.KVM_WALL_CLOCK_NEW -> {
                vm.setWallClockMsr(value);
                vm.writeWallClock(value);
            }
            default -> throw new UnknownMsrException(index, "not emulated by KVM here (#GP)");
        }
    }

    @Override
    public int[] cpuid(int leaf, int subleaf) {
        return Cpuid.answer(this, leaf, subleaf);
    }

    KvmVm vm() {
        return vm;
    }

    // ---- the control plane (ioctl-like) ----------------------------------------------------

    /** KVM_GET_MSRS (host-initiated). IA32_TSC reads the guest TSC. */
    public long getMsr(int index) {
        if (!Msr.isTimeMsr(index)) {
            throw new KvmException(Errno.EINVAL, "KVM_GET_MSRS: " + Msr.name(index) + " is not supported");
        }
        return timeMsr(index);
    }

    /**
     * KVM_SET_MSRS (host-initiated): IA32_TSC synchronizes (TIME.md section 5) and leaves
     * TSC_ADJUST alone; TSC_ADJUST and TSC_AUX are stored without touching the TSC.
     */
    public void setMsr(int index, long value) {
        switch (index) {
            case Msr.IA32_TSC -> synchronizeTsc(value, true);
            case Msr.IA32_TSC_ADJUST -> tscAdjust = value;
            case Msr.TSC_AUX -> {
                // Bits 63:32 are reserved for an Intel-compatible guest, host writes included.
                if (value >>> 32 != 0) {
                    throw new KvmException(Errno.EINVAL, "KVM_SET_MSRS: TSC_AUX bits 63:32 are reserved, got 0x"
                            + Long.toHexString(value));
                }
                tscAux = value;
            }
            case Msr.KVM_SYSTEM_TIME -> writeSystemTime(value, true, true);
            case Msr.KVM_SYSTEM_TIME_NEW -> writeSystemTime(value, false, true);
            // Host-initiated: stored only; the guest's own write publishes the wall clock.
            case Msr.KVM_WALL_CLOCK, Msr.KVM_WALL_CLOCK_NEW -> vm.setWallClockMsr(value);
            default -> throw new KvmException(Errno.EINVAL, "KVM_SET_MSRS: " + Msr.name(index) + " is not supported");
        }
    }

    /** KVM_GET_TSC_KHZ on the vCPU. */
    public long getTscKhz() {
        return virtualTscKhz;
    }

    /**
     * KVM_SET_TSC_KHZ on the vCPU: computes the scaling ratio, or keeps the default one when the
     * frequency is within 250 ppm of the host's. 0 means the host's frequency.
     */
    public void setTscKhz(long khz) {
        vm.checkTscKhz(khz);
        long hostKhz = host.tscKhz();
        long userKhz = khz == 0 ? hostKhz : khz;
        int frac = host.fracBits();
        long ratio = TscMath.defaultRatio(frac);
        if (!TscMath.withinTolerance(userKhz, hostKhz)) {
            try {
                ratio = TscMath.ratio(userKhz, hostKhz, frac);
            } catch (ArithmeticException e) {
                ratio = 0;
            }
            if (ratio == 0 || Long.compareUnsigned(ratio, TscMath.maxRatio(frac)) >= 0) {
                throw new KvmException(Errno.EINVAL, String.format(
                        "TSC scaling ratio 0x%x for %d kHz on a %d kHz host is outside the CPU's range", ratio,
                        userKhz, hostKhz));
            }
        }
        virtualTscKhz = userKhz;
        tscRatio = ratio;
        nsecToCycles = TscMath.timeScale(userKhz * 1000, 1_000_000_000L);
        guestTimeUpdate();
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
        checkAttr(group, attribute);
        return tscOffset;
    }

    /**
     * KVM_SET_DEVICE_ATTR for a u64 attribute of KVM_VCPU_TSC_CTRL. Setting TSC_OFFSET joins the
     * current generation when the kHz and offset match the last write (kvm_arch_tsc_set_attr).
     */
    public void setAttr(int group, int attribute, long value) {
        checkAttr(group, attribute);
        boolean matched = virtualTscKhz != 0 && vm.lastTscKhz == virtualTscKhz && vm.lastTscOffset == value;
        long now = host.monotonicNanos();
        long tsc = TscMath.scale(host.tsc(), tscRatio, host.fracBits()) + value;
        vm.userSetTsc = true;
        commitTscWrite(value, tsc, now, matched);
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
     * for each host-initiated IA32_TSC write. TIME.md section 5, as Linux's kvm_synchronize_tsc.
     */
    void synchronizeTsc(long data, boolean userInitiated) {
        long now = host.monotonicNanos();
        long hostTsc = host.tsc();
        long offset = data - TscMath.scale(hostTsc, tscRatio, host.fracBits());
        long elapsed = now - vm.lastTscNsec;
        boolean synchronizing = false;
        if (virtualTscKhz != 0) {
            if (data == 0) {
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
        tscOffset = offset;
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
        vm.trackTscMatching(!matched, this);
    }

    // ---- kvmclock ------------------------------------------------------------------------

    /**
     * kvm_write_system_time: stores the MSR; bit 0 enables the pvclock page at the rest of the
     * value. The boot vCPU switching between the legacy and new MSRs forces a master clock
     * update (the legacy MSR rules the master clock out).
     */
    private void writeSystemTime(long value, boolean legacy, boolean hostInitiated) {
        boolean masterclockUpdate = false;
        if (id == 0 && !hostInitiated && vm.bootVcpuRunsOldKvmclock != legacy) {
            vm.bootVcpuRunsOldKvmclock = legacy;
            masterclockUpdate = true;
        }
        systemTimeMsr = value;
        if (masterclockUpdate) {
            vm.masterclockUpdate();
        } else {
            vm.globalClockUpdate(this);
        }
    }

    /**
     * KVM_KVMCLOCK_CTRL: tells the guest it was stopped by the host (PVCLOCK_GUEST_STOPPED in
     * its pvclock page), so its soft-lockup watchdog does not fire. The guest clears the bit.
     */
    public void kvmclockCtrl() {
        if (!pvclockEnabled()) {
            throw new KvmException(Errno.EINVAL, "KVM_KVMCLOCK_CTRL: vCPU " + id + " has no kvmclock page");
        }
        guestStoppedRequest = true;
        guestTimeUpdate();
    }

    /** Asks for this vCPU's pvclock to be refreshed at its first entry at or after {@code dueNanos}. */
    void requestClockUpdate(long dueNanos) {
        if (clockUpdateDue < 0 || dueNanos < clockUpdateDue) {
            clockUpdateDue = dueNanos;
        }
    }

    @Override
    public void beforeEntry() {
        if (clockUpdateDue >= 0 && host.monotonicNanos() >= clockUpdateDue) {
            clockUpdateDue = -1;
            guestTimeUpdate();
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
     * kvm_guest_time_update: publishes this vCPU's pvclock page. With the master clock every
     * vCPU uses the same host reference and the TSC_STABLE bit; otherwise a fresh host reading.
     */
    void guestTimeUpdate() {
        clockUpdateDue = -1;
        if (!pvclockEnabled()) {
            return;
        }
        long hostTsc;
        long kernelNs;
        if (vm.useMasterClock) {
            hostTsc = vm.masterCycleNow;
            kernelNs = vm.masterKernelNs;
        } else {
            SimulatedHost.Reading r = host.read();
            hostTsc = r.tsc();
            kernelNs = r.monotonicNanos();
        }
        TscMath.TimeScale scale = TscMath.timeScale(1_000_000_000L, pvclockTscHz());
        int flags = (vm.useMasterClock ? Pvclock.TSC_STABLE_BIT : 0) | (guestStoppedRequest ? Pvclock.GUEST_STOPPED_BIT : 0);
        guestStoppedRequest = false;
        pvclock = Pvclock.publish(vm.memory(), systemTimeMsr & ~1L, guestTscAt(hostTsc), kernelNs + vm.kvmclockOffset,
                scale, flags);
    }

    /**
     * The guest TSC frequency the pvclock scale is derived from. KVM: the host's tsc_khz scaled
     * by the ratio, in whole kHz. Exact: the host TSC's true Hz scaled by the ratio.
     */
    public long pvclockTscHz() {
        return vm.pvclockMode() == PvclockMode.KVM_COMPAT
                ? TscMath.scale(host.tscKhz(), tscRatio, host.fracBits()) * 1000
                : TscMath.scale(host.tscHz(), tscRatio, host.fracBits());
    }

    /** The TSC generation this vCPU last synchronized to. */
    public long tscGeneration() {
        return thisTscGeneration;
    }
}

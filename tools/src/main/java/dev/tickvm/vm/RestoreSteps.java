package dev.tickvm.vm;

import dev.tickvm.kvm.KvmException;
import dev.tickvm.kvm.KvmVcpu;
import dev.tickvm.kvm.KvmVm;
import dev.tickvm.kvm.Msr;
import dev.tickvm.kvm.TscMath;

/** The calls every restore strategy makes alike, in the order they make them. */
final class RestoreSteps {
    private RestoreSteps() {
    }

    /**
     * tickvm's pvclock option, then KVM_SET_TSC_KHZ on every vCPU with its saved kHz: first,
     * because kvm_synchronize_tsc compares a vCPU's kHz with the last write's, and every TSC value
     * written next goes through the new ratio.
     */
    static void frequencies(KvmVm destination, KvmSaved saved) {
        destination.setPvclockMode(saved.pvclockMode());
        for (KvmVcpu vcpu : destination.vcpus()) {
            vcpu.setTscKhz(saved.vcpus().get(vcpu.id()).tscKhz());
        }
    }

    /**
     * KVM_SET_MSRS of one vCPU in the order of QEMU's kvm_put_msrs: TSC_AUX and IA32_TSC_ADJUST
     * (stored as they are), IA32_TSC when the strategy restores the TSC this way, then the
     * kvmclock MSRs (the wall clock write publishes the boot time into guest RAM from the
     * destination's realtime and its kvmclock as they are at this call).
     */
    static void msrs(KvmVcpu vcpu, KvmSaved.Vcpu s, boolean tsc) {
        vcpu.setMsr(Msr.TSC_AUX, s.tscAux());
        vcpu.setMsr(Msr.IA32_TSC_ADJUST, s.tscAdjust());
        if (tsc) {
            vcpu.setMsr(Msr.IA32_TSC, s.tsc());
        }
        vcpu.setMsr(Msr.KVM_SYSTEM_TIME_NEW, s.systemTime());
        vcpu.setMsr(Msr.KVM_WALL_CLOCK_NEW, s.wallClock());
    }

    /**
     * The frequencies, then each vCPU's saved MSRs with its saved IA32_TSC, {@code pace} apart:
     * IA32_TSC goes through kvm_synchronize_tsc, so vCPU 0's write, the first by userspace,
     * starts a generation, and the others' values, saved at one instant, fall in its one-second
     * window and take its offset, and the master clock can come back (unless the VMM takes a
     * second or more between two vCPUs).
     */
    static void savedTscs(KvmVm destination, KvmSaved saved, RestoreStrategy.Pace pace) {
        frequencies(destination, saved);
        for (KvmVcpu vcpu : destination.vcpus()) {
            if (vcpu.id() > 0) {
                pace.betweenVcpus();
            }
            msrs(vcpu, saved.vcpus().get(vcpu.id()), true);
        }
    }

    /** {@code nanos} of time in cycles at {@code khz}: ns * kHz / 1e6, 128-bit, truncating toward zero. */
    static long cycles(long nanos, long khz) {
        return nanos >= 0 ? TscMath.mulDiv(nanos, khz, 1_000_000) : -TscMath.mulDiv(-nanos, khz, 1_000_000);
    }

    /** The VM starts running: KVM_KVMCLOCK_CTRL on each vCPU with a pvclock page, as QEMU does. */
    static void start(KvmVm destination) {
        for (KvmVcpu vcpu : destination.vcpus()) {
            if (vcpu.pvclockEnabled()) {
                try {
                    vcpu.kvmclockCtrl();
                } catch (KvmException e) {
                    // No page to flag.
                }
            }
        }
    }
}

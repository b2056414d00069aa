package dev.tickvm.vm;

import dev.tickvm.devices.KvmClockDevice;
import dev.tickvm.kvm.KvmVcpu;
import dev.tickvm.kvm.KvmVm;
import dev.tickvm.kvm.Msr;

/**
 * QEMU's restore, the default: guest time stops while the VM is not running. The TSCs are put
 * back at the values saved (host-initiated IA32_TSC writes) and kvmclock at the clock the
 * kvmclock device froze (KVM_SET_CLOCK without REALTIME), so neither counts the downtime; the
 * guest's wall clock, derived from the destination's realtime, does.
 */
public final class StopRestore implements RestoreStrategy {

    @Override
    public String name() {
        return "stop";
    }

    @Override
    public String summary() {
        return "QEMU's default: TSCs and kvmclock continue from their saved values; the downtime is not in guest time";
    }

    @Override
    public void restore(KvmVm destination, KvmSaved saved, KvmClockDevice clockDevice) {
        destination.setPvclockMode(saved.pvclockMode());
        for (KvmVcpu vcpu : destination.vcpus()) {
            KvmSaved.Vcpu s = saved.vcpus().get(vcpu.id());
            // The frequency first (QEMU's kvm_arch_init_vcpu): kvm_synchronize_tsc compares the
            // vCPU's kHz with the last write's, and the TSC written next goes through its ratio.
            vcpu.setTscKhz(s.tscKhz());
        }
        for (KvmVcpu vcpu : destination.vcpus()) {
            KvmSaved.Vcpu s = saved.vcpus().get(vcpu.id());
            // KVM_SET_MSRS in the order of QEMU's kvm_put_msrs. TSC_AUX and TSC_ADJUST are stored
            // as they are; IA32_TSC goes through kvm_synchronize_tsc: vCPU 0's write, the first by
            // userspace, starts a generation, and the others' values, saved at one instant, fall in
            // its one-second window and take its offset, so the master clock can come back.
            vcpu.setMsr(Msr.TSC_AUX, s.tscAux());
            vcpu.setMsr(Msr.IA32_TSC_ADJUST, s.tscAdjust());
            vcpu.setMsr(Msr.IA32_TSC, s.tsc());
            // The kvmclock MSRs last: the wall clock write publishes the boot time into guest RAM
            // from the destination's realtime and its kvmclock, which the VM clock below moves.
            vcpu.setMsr(Msr.KVM_SYSTEM_TIME_NEW, s.systemTime());
            vcpu.setMsr(Msr.KVM_WALL_CLOCK_NEW, s.wallClock());
        }
        // The VM starts running (QEMU's kvmclock_vm_state_change): KVM_SET_CLOCK with the frozen
        // clock and no REALTIME flag, then KVM_KVMCLOCK_CTRL on each vCPU with a page. KVM applies
        // both at each vCPU's next entry.
        clockDevice.restore(saved.clockDevice());
        clockDevice.resume();
    }
}

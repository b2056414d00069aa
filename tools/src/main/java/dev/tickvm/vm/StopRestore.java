package dev.tickvm.vm;

import dev.tickvm.devices.KvmClockDevice;
import dev.tickvm.kvm.KvmVm;

/**
 * QEMU's restore, the default (target/i386/kvm/kvm.c kvm_arch_put_registers, hw/i386/kvm/clock.c
 * kvmclock_vm_state_change): guest time stops while the VM is not running. The TSCs are put back
 * at the values saved (host-initiated IA32_TSC writes) and kvmclock at the clock the kvmclock
 * device froze (KVM_SET_CLOCK with flags 0), so neither counts the downtime. Firecracker's default
 * since v1.16 gives the same. (QEMU reads the TSCs when the VM stops and the clock again just
 * before saving; tickvm reads both at one instant.)
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
    public void restore(KvmVm destination, KvmSaved saved, KvmClockDevice clockDevice, Pace pace) {
        RestoreSteps.savedTscs(destination, saved, pace);
        // The VM starts (QEMU's kvmclock_vm_state_change): KVM_SET_CLOCK with the frozen clock and
        // no REALTIME flag, then KVM_KVMCLOCK_CTRL on each vCPU with a page. KVM applies both at
        // each vCPU's next entry.
        clockDevice.restore(saved.clockDevice());
        clockDevice.resume();
    }
}

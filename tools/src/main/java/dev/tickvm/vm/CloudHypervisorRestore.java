package dev.tickvm.vm;

import dev.tickvm.devices.KvmClockDevice;
import dev.tickvm.kvm.ClockData;
import dev.tickvm.kvm.KvmVcpu;
import dev.tickvm.kvm.KvmVm;
import dev.tickvm.kvm.TscAttribute;

/**
 * What Cloud Hypervisor does (vmm/src/cpu.rs and vm.rs, mid-2026): each vCPU's saved MSRs,
 * IA32_TSC among them, after KVM_SET_TSC_KHZ; then every vCPU's TSC offset copied from vCPU 0's
 * (synchronize_tsc_offsets, KVM_VCPU_TSC_OFFSET) so the master clock engages; then, on resume,
 * KVM_SET_CLOCK with the saved flags, REALTIME included (restore_guest_clock), and no
 * KVM_KVMCLOCK_CTRL on this path. The TSC leaves the downtime out; kvmclock counts it, through
 * CLOCK_REALTIME, with no PVCLOCK_GUEST_STOPPED.
 */
public final class CloudHypervisorRestore implements RestoreStrategy {

    @Override
    public String name() {
        return "cloud-hypervisor";
    }

    @Override
    public String summary() {
        return "Cloud Hypervisor: saved TSCs, offsets copied from vCPU 0, KVM_SET_CLOCK with REALTIME, no KVMCLOCK_CTRL";
    }

    @Override
    public void restore(KvmVm destination, KvmSaved saved, KvmClockDevice clockDevice, Pace pace) {
        RestoreSteps.savedTscs(destination, saved, pace);
        long offset = destination.vcpu(0).getAttr(TscAttribute.GROUP_TSC_CTRL, TscAttribute.TSC_OFFSET);
        for (KvmVcpu vcpu : destination.vcpus()) {
            vcpu.setAttr(TscAttribute.GROUP_TSC_CTRL, TscAttribute.TSC_OFFSET, offset);
        }
        ClockData source = saved.clock();
        destination.setClock(new ClockData(source.clock(), source.flags(), source.realtime(), source.hostTsc()));
    }
}

package dev.tickvm.vm;

import dev.tickvm.devices.KvmClockDevice;
import dev.tickvm.kvm.ClockData;
import dev.tickvm.kvm.KvmVcpu;
import dev.tickvm.kvm.KvmVm;

/**
 * Amazon's KVM_VCPU_TSC_VALUE (Simon Veith, v2 2023, not merged): kvmclock restored with
 * KVM_CLOCK_REALTIME, then each vCPU's {tsc_val, kvm_ns}; KVM advances the TSC by the kvmclock
 * that passed since kvm_ns, in the vCPU's own cycles, so TSC scaling and the time the VMM takes
 * between vCPUs are KVM's business, and synchronizes it (kvm_synchronize_tsc).
 */
public final class TscValueRestore implements RestoreStrategy {

    @Override
    public String name() {
        return "tsc-value";
    }

    @Override
    public String summary() {
        return "Amazon's proposal: KVM_SET_CLOCK with REALTIME, then KVM_VCPU_TSC_VALUE {tsc, kvm_ns} per vCPU";
    }

    @Override
    public void restore(KvmVm destination, KvmSaved saved, KvmClockDevice clockDevice, Pace pace) {
        ClockData source = saved.clock();
        if (!source.has(ClockData.REALTIME)) {
            throw new IllegalStateException("tsc-value restores kvmclock with REALTIME: the source's KVM_GET_CLOCK gave none");
        }
        RestoreSteps.frequencies(destination, saved);
        for (KvmVcpu vcpu : destination.vcpus()) {
            RestoreSteps.msrs(vcpu, saved.vcpus().get(vcpu.id()), false);
        }
        // The clock first: each TSC value is advanced by kvmclock time.
        destination.setClock(new ClockData(source.clock(), ClockData.REALTIME, source.realtime(), 0));
        for (KvmVcpu vcpu : destination.vcpus()) {
            if (vcpu.id() > 0) {
                pace.betweenVcpus();
            }
            vcpu.setTscValue(saved.vcpus().get(vcpu.id()).tscValue());
        }
        RestoreSteps.start(destination);
    }
}

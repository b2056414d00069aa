package dev.tickvm.vm;

import dev.tickvm.devices.KvmClockDevice;
import dev.tickvm.kvm.ClockData;
import dev.tickvm.kvm.KvmVm;

/**
 * Firecracker with KVM_CLOCK_REALTIME (its default before v1.16, which cleared only
 * KVM_CLOCK_TSC_STABLE from the saved flags; an opt-in, clock_realtime, since): KVM_SET_TSC_KHZ
 * when the rates differ, each vCPU's saved MSRs (IA32_TSC among them) and KVM_KVMCLOCK_CTRL, then
 * KVM_SET_CLOCK with the saved clock and REALTIME. The TSC leaves the downtime out, kvmclock counts
 * it. Firecracker's current default (flags 0) gives what {@code stop} gives.
 */
public final class FirecrackerRealtimeRestore implements RestoreStrategy {

    @Override
    public String name() {
        return "firecracker-realtime";
    }

    @Override
    public String summary() {
        return "Firecracker before v1.16 (clock_realtime since): saved TSCs, KVM_SET_CLOCK with REALTIME";
    }

    @Override
    public void restore(KvmVm destination, KvmSaved saved, KvmClockDevice clockDevice, Pace pace) {
        RestoreSteps.savedTscs(destination, saved, pace);
        RestoreSteps.start(destination);
        ClockData source = saved.clock();
        destination.setClock(new ClockData(source.clock(), source.flags() & ~ClockData.TSC_STABLE, source.realtime(),
                source.hostTsc()));
    }
}

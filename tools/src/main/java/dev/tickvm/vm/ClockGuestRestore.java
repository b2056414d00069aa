package dev.tickvm.vm;

import dev.tickvm.devices.KvmClockDevice;
import dev.tickvm.kvm.ClockData;
import dev.tickvm.kvm.KvmException;
import dev.tickvm.kvm.KvmVcpu;
import dev.tickvm.kvm.KvmVm;
import dev.tickvm.kvm.TscAttribute;
import dev.tickvm.kvm.TscMath;

/**
 * David Woodhouse's series (KVM_VCPU_TSC_SCALE, KVM_GET/SET_CLOCK_GUEST; 2023-2026, not merged):
 * the guest TSC is the ground truth. The destination sets the frequency, computes each vCPU's
 * TSC as the saved one plus the realtime that passed at the guest's rate, turns it into an offset
 * with the destination's own scaling ratio (TSC_SCALE) against one host TSC reading, and then
 * makes kvmclock the same function of the guest TSC as on the source (KVM_SET_CLOCK_GUEST with
 * the source's pvclock): kvmclock takes no step of its own on top of the TSC's.
 */
public final class ClockGuestRestore implements RestoreStrategy {

    @Override
    public String name() {
        return "clock-guest";
    }

    @Override
    public String summary() {
        return "Woodhouse's series: TSCs from the saved ones plus the realtime elapsed, then KVM_SET_CLOCK_GUEST";
    }

    @Override
    public void restore(KvmVm destination, KvmSaved saved, KvmClockDevice clockDevice, Pace pace) {
        ClockData source = saved.clock();
        if (!source.has(ClockData.REALTIME) || saved.clockGuest() == null) {
            throw new IllegalStateException("clock-guest needs the source's master clock (KVM_GET_CLOCK with REALTIME,"
                    + " KVM_GET_CLOCK_GUEST); this snapshot was saved without it");
        }
        RestoreSteps.frequencies(destination, saved);
        for (KvmVcpu vcpu : destination.vcpus()) {
            RestoreSteps.msrs(vcpu, saved.vcpus().get(vcpu.id()), false);
        }
        // A fallback clock first (KVM_SET_CLOCK with REALTIME), as the series' VMM side does, so
        // that kvmclock is sane whatever happens next; it also takes a master reference.
        destination.setClock(new ClockData(source.clock(), ClockData.REALTIME, source.realtime(), 0));
        // One destination reading: its realtime and host TSC, together.
        ClockData here = destination.getClock();
        long elapsed = here.realtime() - source.realtime();
        for (KvmVcpu vcpu : destination.vcpus()) {
            if (vcpu.id() > 0) {
                pace.betweenVcpus();
            }
            KvmSaved.Vcpu s = saved.vcpus().get(vcpu.id());
            long cycles = RestoreSteps.cycles(elapsed, s.tscKhz());
            long target = s.tsc() + cycles;
            KvmVcpu.TscScale scale;
            try {
                scale = vcpu.getTscScale();
            } catch (KvmException e) {
                // No TSC scaling on this host: the guest runs at the host's rate.
                scale = new KvmVcpu.TscScale(TscMath.defaultRatio(destination.host().fracBits()),
                        destination.host().fracBits());
            }
            // The offset that makes this vCPU's TSC the target at the reading's host TSC: it does
            // not depend on when this call is made, so the VMM's pace between vCPUs costs nothing.
            long offset = target - TscMath.scale(here.hostTsc(), scale.ratio(), scale.fracBits());
            vcpu.setAttr(TscAttribute.GROUP_TSC_CTRL, TscAttribute.TSC_OFFSET, offset);
        }
        destination.vcpu(0).setClockGuest(saved.clockGuest());
        RestoreSteps.start(destination);
    }
}

package dev.tickvm.vm;

import dev.tickvm.devices.KvmClockDevice;
import dev.tickvm.kvm.ClockData;
import dev.tickvm.kvm.KvmVcpu;
import dev.tickvm.kvm.KvmVm;
import dev.tickvm.kvm.TscAttribute;

/**
 * The algorithm of Linux's Documentation/virt/kvm/devices/vcpu.rst for KVM_VCPU_TSC_OFFSET
 * (Linux 5.16, Google): kvmclock is advanced by the CLOCK_REALTIME that passed since the save
 * (KVM_SET_CLOCK with KVM_CLOCK_REALTIME), and each vCPU's TSC offset is moved by that much
 * kvmclock time in guest cycles plus the difference of the two hosts' TSCs:
 * {@code ofs_dst = ofs_src - (guest_src - guest_dst) * freq + (tsc_src - tsc_dst)}. The last term
 * is in host cycles of two different hosts, added to an offset in guest cycles: right only when
 * neither host scales the guest TSC, i.e. when source, destination and guest run at one rate.
 */
public final class OffsetRealtimeRestore implements RestoreStrategy {

    @Override
    public String name() {
        return "offset-realtime";
    }

    @Override
    public String summary() {
        return "vcpu.rst: KVM_SET_CLOCK with REALTIME, TSC offsets moved by the kvmclock elapsed and the host TSC difference";
    }

    @Override
    public void restore(KvmVm destination, KvmSaved saved, KvmClockDevice clockDevice, Pace pace) {
        ClockData source = saved.clock();
        if (!source.has(ClockData.REALTIME) || !source.has(ClockData.HOST_TSC)) {
            throw new IllegalStateException("offset-realtime needs the source's KVM_GET_CLOCK with REALTIME and HOST_TSC"
                    + " (a master clock at the save); this snapshot has flags 0x" + Integer.toHexString(source.flags()));
        }
        RestoreSteps.frequencies(destination, saved);
        for (KvmVcpu vcpu : destination.vcpus()) {
            RestoreSteps.msrs(vcpu, saved.vcpus().get(vcpu.id()), false);
        }
        // Step 4: kvmclock = the source's, plus the realtime that passed (never backwards).
        destination.setClock(new ClockData(source.clock(), ClockData.REALTIME, source.realtime(), 0));
        // Step 5: one reading of the destination: its host TSC and kvmclock.
        ClockData here = destination.getClock();
        for (KvmVcpu vcpu : destination.vcpus()) {
            if (vcpu.id() > 0) {
                pace.betweenVcpus();
            }
            KvmSaved.Vcpu s = saved.vcpus().get(vcpu.id());
            // Step 6, with freq in kHz: ns * kHz / 1e6 cycles, 128-bit, truncating.
            long elapsed = here.clock() - source.clock();
            long cycles = RestoreSteps.cycles(elapsed, s.tscKhz());
            long offset = s.tscOffset() + cycles + (source.hostTsc() - here.hostTsc());
            // Step 7.
            vcpu.setAttr(TscAttribute.GROUP_TSC_CTRL, TscAttribute.TSC_OFFSET, offset);
        }
        RestoreSteps.start(destination);
    }
}

package dev.tickvm.vm;

import dev.tickvm.devices.KvmClockDevice;
import dev.tickvm.kvm.ClockData;
import dev.tickvm.kvm.KvmVcpu;
import dev.tickvm.kvm.KvmVm;
import dev.tickvm.kvm.Msr;
import dev.tickvm.kvm.Pvclock;
import dev.tickvm.kvm.PvclockMode;
import dev.tickvm.kvm.TscAttribute;
import dev.tickvm.snapshot.SectionReader;
import dev.tickvm.snapshot.SectionWriter;
import dev.tickvm.snapshot.SnapshotFormatException;
import java.util.ArrayList;
import java.util.List;

/**
 * The kernel's part of a VM as a VMM saves it: only what KVM's control plane gives back, never
 * KvmVm's or KvmVcpu's internals (generations, matched counts, the master reference belong to the
 * source host's kernel and do not travel). Every value is read at one instant of the source's
 * time, right after the VM stopped, so that each restore strategy can pick what it needs.
 *
 * @param vmTscKhz    KVM_GET_TSC_KHZ on the VM (the default for new vCPUs)
 * @param pvclockMode tickvm's pvclock scale option (not KVM's)
 * @param clock       KVM_GET_CLOCK: kvmclock, flags, and with the master clock the realtime and
 *                    host TSC of the same reading
 * @param clockDevice the kvmclock device's state (QEMU's "kvmclock" vmstate): the clock frozen at the stop
 * @param clockGuest  KVM_GET_CLOCK_GUEST on vCPU 0 (the proposed interface), or null without the
 *                    master clock
 * @param vcpus       per vCPU, in id order
 */
public record KvmSaved(long vmTscKhz, PvclockMode pvclockMode, ClockData clock, KvmClockDevice.State clockDevice,
        Pvclock clockGuest, List<Vcpu> vcpus) {

    /**
     * One vCPU's control-plane values.
     *
     * @param tscKhz     KVM_GET_TSC_KHZ
     * @param tsc        KVM_GET_MSRS IA32_TSC (the guest TSC at the save)
     * @param tscAdjust  IA32_TSC_ADJUST
     * @param tscAux     TSC_AUX
     * @param tscOffset  KVM_GET_DEVICE_ATTR KVM_VCPU_TSC_OFFSET
     * @param systemTime MSR_KVM_SYSTEM_TIME_NEW (pvclock page GPA | enable)
     * @param wallClock  MSR_KVM_WALL_CLOCK_NEW (VM-wide in KVM, saved per vCPU as QEMU does)
     * @param tscValue   KVM_VCPU_TSC_VALUE (the proposed interface): a TSC and its kvmclock ns
     */
    public record Vcpu(long tscKhz, long tsc, long tscAdjust, long tscAux, long tscOffset, long systemTime,
            long wallClock, KvmVcpu.TscValue tscValue) {
    }

    public KvmSaved {
        vcpus = List.copyOf(vcpus);
    }

    /**
     * Reads it all from a stopped VM: the kvmclock device freezes the clock first (as QEMU's does
     * when the VM stops), then KVM_GET_CLOCK, then each vCPU's ioctls. No host time passes between
     * the calls of a virtual clock; on a real one they are microseconds apart, as in a VMM.
     */
    public static KvmSaved capture(KvmVm vm, KvmClockDevice device) {
        KvmClockDevice.State frozen = device.save();
        ClockData clock = vm.getClock();
        List<Vcpu> vcpus = new ArrayList<>();
        for (KvmVcpu v : vm.vcpus()) {
            vcpus.add(new Vcpu(v.getTscKhz(), v.getMsr(Msr.IA32_TSC), v.getMsr(Msr.IA32_TSC_ADJUST), v.getMsr(Msr.TSC_AUX),
                    v.getAttr(TscAttribute.GROUP_TSC_CTRL, TscAttribute.TSC_OFFSET), v.getMsr(Msr.KVM_SYSTEM_TIME_NEW),
                    v.getMsr(Msr.KVM_WALL_CLOCK_NEW), v.getTscValue()));
        }
        Pvclock guest = vm.usesMasterClock() ? vm.vcpu(0).getClockGuest() : null;
        return new KvmSaved(vm.getTscKhz(), vm.pvclockMode(), clock, frozen, guest, vcpus);
    }

    /** The KVM_VM section's payload. */
    byte[] encodeVm() {
        SectionWriter w = new SectionWriter().putLong(vmTscKhz).putByte(pvclockMode.ordinal()).putLong(clock.clock())
                .putInt(clock.flags()).putLong(clock.realtime()).putLong(clock.hostTsc()).putLong(clockDevice.clock())
                .putBoolean(clockDevice.clockIsReliable()).putBoolean(clockGuest != null);
        if (clockGuest != null) {
            w.putLong(clockGuest.tscTimestamp()).putLong(clockGuest.systemTime()).putInt(clockGuest.mul())
                    .putByte(clockGuest.shift()).putByte(clockGuest.flags());
        }
        return w.toByteArray();
    }

    /** The KVM_VCPU section's payload for vCPU {@code id}. */
    byte[] encodeVcpu(int id) {
        Vcpu v = vcpus.get(id);
        return new SectionWriter().putLong(v.tscKhz()).putLong(v.tsc()).putLong(v.tscAdjust()).putLong(v.tscAux())
                .putLong(v.tscOffset()).putLong(v.systemTime()).putLong(v.wallClock()).putLong(v.tscValue().tsc())
                .putLong(v.tscValue().kvmNs()).toByteArray();
    }

    /** Decodes the KVM_VM section and every vCPU's KVM_VCPU section, checking each value read. */
    static KvmSaved decode(SectionReader vm, List<SectionReader> vcpuReaders) throws SnapshotFormatException {
        long vmKhz = vm.getLong();
        int mode = vm.getByte();
        if (mode < 0 || mode >= PvclockMode.values().length) {
            throw vm.invalid("pvclock mode " + mode + " is not one this version knows");
        }
        ClockData clock = new ClockData(vm.getLong(), vm.getInt(), vm.getLong(), vm.getLong());
        KvmClockDevice.State device = new KvmClockDevice.State(vm.getLong(), vm.getBoolean());
        Pvclock guest = null;
        if (vm.getBoolean()) {
            guest = new Pvclock(0, vm.getLong(), vm.getLong(), vm.getInt(), vm.getByte(), vm.getByte() & 0xff);
        }
        vm.finish();
        List<Vcpu> vcpus = new ArrayList<>();
        for (SectionReader r : vcpuReaders) {
            vcpus.add(new Vcpu(r.getLong(), r.getLong(), r.getLong(), r.getLong(), r.getLong(), r.getLong(), r.getLong(),
                    new KvmVcpu.TscValue(r.getLong(), r.getLong())));
            r.finish();
        }
        return new KvmSaved(vmKhz, PvclockMode.values()[mode], clock, device, guest, vcpus);
    }
}

package dev.tickvm.devices;

import dev.tickvm.kvm.ClockData;
import dev.tickvm.kvm.KvmException;
import dev.tickvm.kvm.KvmVcpu;
import dev.tickvm.kvm.KvmVm;

/**
 * The userspace half of kvmclock, in the spirit of QEMU's hw/i386/kvm/clock.c: it keeps the VM
 * clock while the VM is stopped and across save/restore, so that kvmclock does not count time
 * the guest did not run.
 *
 * <p>Stop: the first stop reads KVM_GET_CLOCK once and keeps it ("valid"); a later save while
 * still stopped must not read it again, or the saved clock would include the stopped time.
 * Resume: KVM_SET_CLOCK with that value and flags 0, then KVM_KVMCLOCK_CTRL on each vCPU with a
 * kvmclock page (PVCLOCK_GUEST_STOPPED: the guest's watchdog forgives the gap). The guest's
 * kvmclock therefore continues from where it stopped: the downtime vanishes from kvmclock but
 * not from the TSC or the wall clock, which is the "stop" behaviour docs/TIME.md section 8 measures.
 */
public final class KvmClockDevice {
    /**
     * What the device migrates (QEMU's vmstate "kvmclock": clock, clock_is_reliable).
     *
     * @param clock         kvmclock ns when the VM stopped
     * @param clockIsReliable whether KVM_GET_CLOCK came from the master clock (TSC_STABLE), so
     *                      the value is consistent with every vCPU's pvclock
     */
    public record State(long clock, boolean clockIsReliable) {
    }

    private final KvmVm vm;
    /** kvmclock ns kept while stopped. */
    private long clock;
    /** True while stopped with {@link #clock} read (or restored) and not yet put back. */
    private boolean clockValid;
    private boolean clockIsReliable;

    public KvmClockDevice(KvmVm vm) {
        this.vm = vm;
    }

    /** The VM stops running: freeze the clock, once. */
    public void stop() {
        if (clockValid) {
            return;
        }
        ClockData data = vm.getClock();
        clock = data.clock();
        clockIsReliable = data.has(ClockData.TSC_STABLE);
        clockValid = true;
    }

    /** The VM runs again: put the frozen clock back, tell the guest it was stopped. */
    public void resume() {
        if (!clockValid) {
            return;
        }
        clockValid = false;
        vm.setClock(ClockData.of(clock));
        for (KvmVcpu vcpu : vm.vcpus()) {
            if (vcpu.pvclockEnabled()) {
                try {
                    vcpu.kvmclockCtrl();
                } catch (KvmException e) {
                    // No page to flag: nothing for the guest to forgive.
                }
            }
        }
    }

    /** True while the clock is frozen. */
    public boolean stopped() {
        return clockValid;
    }

    /** The state to save; stops the clock first if it is running (a save of a live VM). */
    public State save() {
        stop();
        return new State(clock, clockIsReliable);
    }

    /** Takes a saved state: the clock is put back at the next {@link #resume}. */
    public void restore(State state) {
        clock = state.clock();
        clockIsReliable = state.clockIsReliable();
        clockValid = true;
    }
}

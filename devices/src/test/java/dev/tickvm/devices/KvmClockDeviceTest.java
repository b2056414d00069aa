package dev.tickvm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickvm.host.SimulatedHost;
import dev.tickvm.host.VirtualClock;
import dev.tickvm.kvm.KvmVcpu;
import dev.tickvm.kvm.KvmVm;
import dev.tickvm.kvm.Msr;
import dev.tickvm.kvm.Pvclock;
import dev.tickvm.memory.GuestMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class KvmClockDeviceTest {
    private static final long SECOND = 1_000_000_000L;
    private final VirtualClock clock = new VirtualClock();
    private final GuestMemory memory = new GuestMemory(GuestMemory.MIN_SIZE);
    private final KvmVm vm = new KvmVm(SimulatedHost.standard("h", clock), (l, s) -> new int[4]);
    private final KvmClockDevice device = new KvmClockDevice(vm);

    @AfterEach
    void close() {
        memory.close();
    }

    @Test
    void kvmclockDoesNotCountTimeTheVmWasStopped() {
        vm.attachMemory(memory);
        KvmVcpu vcpu = vm.createVcpu();
        vcpu.beforeEntry();
        vcpu.writeMsr(Msr.KVM_SYSTEM_TIME_NEW, 0x5000 | 1);
        clock.advance(10 * SECOND);
        long before = vm.getClock().clock();
        device.stop();
        assertTrue(device.stopped());
        clock.advance(30 * SECOND);
        device.stop();
        device.resume();
        assertFalse(device.stopped());
        assertEquals(before, vm.getClock().clock());
        // KVM_SET_CLOCK and KVM_KVMCLOCK_CTRL take effect on the page at the vCPU's next entry.
        vcpu.beforeEntry();
        Pvclock page = Pvclock.read(memory, 0x5000);
        assertEquals(before, page.nanosAt(vcpu.readTsc()));
        assertEquals(Pvclock.TSC_STABLE_BIT | Pvclock.GUEST_STOPPED_BIT, page.flags());
        // The TSC did not stop: 40 s of it.
        assertEquals(120_000_000_000L, vcpu.readTsc());
    }

    @Test
    void aSaveWhileStoppedKeepsTheClockReadAtTheStop() {
        vm.createVcpu().beforeEntry();
        clock.advance(SECOND);
        device.stop();
        long frozen = device.save().clock();
        clock.advance(5 * SECOND);
        assertEquals(new KvmClockDevice.State(frozen, true), device.save());
        assertEquals(999_999_999L, frozen);
    }

    @Test
    void aRestoredStateIsPutBackAtResume() {
        vm.createVcpu();
        device.restore(new KvmClockDevice.State(77 * SECOND, true));
        assertTrue(device.stopped());
        clock.advance(SECOND);
        device.resume();
        assertEquals(77 * SECOND, vm.getClock().clock());
    }
}

package dev.tickvm.vm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickvm.cpu.VcpuState;
import dev.tickvm.host.SimulatedHost;
import dev.tickvm.host.VirtualClock;
import dev.tickvm.images.GuestImages;
import dev.tickvm.machine.VmExit;
import dev.tickvm.snapshot.Progress;
import dev.tickvm.snapshot.SnapshotException;
import dev.tickvm.unicorn.Unicorn;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A whole VM saved and restored in one process: everything the guest can observe comes back. */
class VirtualMachineTest {
    private static final long MS = 1_000_000L;

    private static VirtualMachine boot(SimulatedHost host, ByteArrayOutputStream serial) {
        return VirtualMachine.boot(Unicorn.get(), host, GuestImages.require("counter"), 2, 16L << 20, 0,
                VirtualMachine.Settings.DEFAULT, serial::write);
    }

    @Test
    void registersMemoryAndTheKernelsTscStateComeBackBitForBit(@TempDir Path dir) throws SnapshotException {
        VirtualClock clock = new VirtualClock();
        SimulatedHost host = SimulatedHost.standard("h", clock);
        ByteArrayOutputStream serial = new ByteArrayOutputStream();
        Path file = dir.resolve("vm.tvm");
        List<VcpuState> states;
        byte[] ram;
        KvmSaved kernel;
        try (VirtualMachine vm = boot(host, serial)) {
            assertInstanceOf(VmExit.TimeReached.class, vm.run(5 * MS));
            vm.save(file, new byte[] {1, 2, 3}, Progress.NONE);
            states = vm.machine().vcpus().stream().map(v -> v.saveState()).toList();
            ram = vm.machine().memory().read(0, (int) vm.machine().memory().size());
            kernel = KvmSaved.capture(vm.kvm(), vm.clockDevice());
        }
        VirtualMachine.Restored restored = VirtualMachine.restore(Unicorn.get(), file, host, new StopRestore(),
                VirtualMachine.Settings.DEFAULT, b -> { }, Progress.NONE);
        try (VirtualMachine vm = restored.vm()) {
            assertArrayEquals(new byte[] {1, 2, 3}, restored.vmmState());
            assertEquals("counter", vm.imageName());
            assertEquals(states, vm.machine().vcpus().stream().map(v -> v.saveState()).toList());
            assertArrayEquals(ram, vm.machine().memory().read(0, (int) vm.machine().memory().size()));
            // The same host at the same instant: KVM's control plane gives back every value. The
            // pvclock of KVM_GET_CLOCK_GUEST comes from the destination's own master reference: other
            // numbers, the same function of the TSC.
            KvmSaved again = KvmSaved.capture(vm.kvm(), vm.clockDevice());
            assertEquals(withoutClockGuest(kernel), withoutClockGuest(again));
            long tsc = kernel.vcpus().getFirst().tsc();
            assertEquals(kernel.clockGuest().nanosAt(tsc), again.clockGuest().nanosAt(tsc), 1);
            assertEquals(2, kernel.vcpus().size());
            assertTrue(kernel.vcpus().getFirst().tsc() > 15 * MS, "5 ms at 3 GHz");
        }
    }

    private static KvmSaved withoutClockGuest(KvmSaved k) {
        return new KvmSaved(k.vmTscKhz(), k.pvclockMode(), k.clock(), k.clockDevice(), null, k.vcpus());
    }

    @Test
    void aSnapshotCannotBeRestoredIntoItsPast(@TempDir Path dir) throws SnapshotException {
        SimulatedHost host = SimulatedHost.standard("h", new VirtualClock());
        Path file = dir.resolve("vm.tvm");
        try (VirtualMachine vm = boot(host, new ByteArrayOutputStream())) {
            vm.run(2 * MS);
            vm.save(file, new byte[0], Progress.NONE);
        }
        SimulatedHost early = SimulatedHost.standard("early", new VirtualClock());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VirtualMachine.restore(
                Unicorn.get(), file, early, new StopRestore(), VirtualMachine.Settings.DEFAULT, b -> { }, Progress.NONE));
        assertTrue(e.getMessage().contains("a VM cannot be restored into its past"), e.getMessage());
    }

    @Test
    void hostSettingsRoundTripThroughASnapshotHeader() {
        SimulatedHost host = HostSpec.build("src", new VirtualClock(), HostSpec.parse(
                "tsc-khz=2_999_990,tsc-hz=3_000_120_000,frac-bits=32,stable=no,ntp-offset=20ms,ntp-slew-ppb=-500"));
        SimulatedHost again = HostSpec.build("src", new VirtualClock(), HostSpec.fromParameters(HostSpec.toParameters(host)));
        assertEquals(HostSpec.settings(host), HostSpec.settings(again));
        assertEquals(20 * MS, again.ntpOffsetNanos());
        assertEquals(3_000_120_000L, again.tscHz());
        assertEquals(2_999_990, again.tscKhz());
        assertThrows(IllegalArgumentException.class, () -> HostSpec.parse("tsc-khz=3GHz"));
        assertThrows(IllegalArgumentException.class, () -> HostSpec.parse("frequency=3"));
    }
}

package dev.tickvm.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickvm.bus.PortIoDevice;
import dev.tickvm.testing.Guests;
import org.junit.jupiter.api.Test;

class MachineBuilderTest {
    private static final PortIoDevice NOTHING = new PortIoDevice() {
        @Override
        public int read(int offset, int size) {
            return 0;
        }

        @Override
        public boolean write(int offset, int size, int value) {
            return false;
        }
    };

    @Test
    void zeroVcpusIsRejectedWithTheAllowedRange() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Machine.builder().vcpus(0));
        assertEquals("vCPUs must be 1 to 64, got 0", e.getMessage());
    }

    @Test
    void sixtyFiveVcpusIsRejectedWithTheAllowedRange() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Machine.builder().vcpus(65));
        assertEquals("vCPUs must be 1 to 64, got 65", e.getMessage());
    }

    @Test
    void sixtyFourVcpusAllBootAndHalt() {
        try (Machine m = Guests.builder(Guests.hex("f4"), new Guests.Capture()).vcpus(64).build()) {
            assertEquals(64, m.vcpus().size());
            assertEquals(new VmExit.AllHalted(), m.run());
            assertEquals(63, m.vcpus().get(63).id());
        }
    }

    @Test
    void quantumBelowTwoBlocksAndBudgetBelowOneAreRejected() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Machine.builder().quantum(0)).getMessage()
                .startsWith("quantum must be at least 2 blocks, got 0 (in a turn of 1 block"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Machine.builder().quantum(1)).getMessage()
                .startsWith("quantum must be at least 2 blocks, got 1"));
        assertEquals("budget must be >= 1 block, got 0",
                assertThrows(IllegalArgumentException.class, () -> Machine.builder().budget(0)).getMessage());
    }

    @Test
    void emptyOrMissingImageIsRejected() {
        assertEquals("empty guest image", assertThrows(IllegalArgumentException.class,
                () -> Machine.builder().image(Guests.LOAD, Guests.LOAD, new byte[0])).getMessage());
        assertEquals("no guest image given",
                assertThrows(IllegalStateException.class, () -> Machine.builder().build()).getMessage());
    }

    @Test
    void imageTooLargeForMemoryIsRejectedWithAdviceToGiveMoreMemory() {
        byte[] oneMib = new byte[1 << 20];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Machine.builder().memorySize(2L << 20).image(Guests.LOAD, Guests.LOAD, oneMib).build());
        assertEquals("guest image 0x100000-0x200000 does not fit between 0x10000 and the vCPU stacks at 0x1fc000"
                + " (2 MiB RAM, 1 vCPUs): give the VM more memory", e.getMessage());
    }

    @Test
    void vcpuStacksCountAgainstTheRoomForTheImage() {
        // 16 MiB, 64 vCPUs: stacks take the top 1 MiB, so an image may end at 0xf00000 but not after.
        byte[] fits = new byte[0xe00000];
        fits[0] = (byte) 0xf4;
        try (Machine m = Machine.builder().vcpus(64).image(Guests.LOAD, Guests.LOAD, fits).build()) {
            assertEquals(16L << 20, m.memory().size());
        }
        byte[] tooBig = new byte[0xe00001];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Machine.builder().vcpus(64).image(Guests.LOAD, Guests.LOAD, tooBig).build());
        assertEquals("guest image 0x100000-0xf00001 does not fit between 0x10000 and the vCPU stacks at 0xf00000"
                + " (16 MiB RAM, 64 vCPUs): give the VM more memory", e.getMessage());
    }

    @Test
    void imageBelowTheVmmAreaIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Machine.builder().image(0x8000, 0x8000, new byte[] {(byte) 0xf4}).build());
        assertEquals("guest image 0x8000-0x8001 does not fit between 0x10000 and the vCPU stacks at 0xffc000"
                + " (16 MiB RAM, 1 vCPUs): give the VM more memory", e.getMessage());
    }

    @Test
    void memoryBelowTwoMibIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Machine.builder().memorySize(1L << 20).image(Guests.LOAD, Guests.LOAD, new byte[] {1}).build());
        assertEquals("guest memory must be a multiple of 4 KiB between 2 MiB and 4 GiB, got 1048576 bytes",
                e.getMessage());
    }

    @Test
    void overlappingDevicesAreRejectedAtConfiguration() {
        Machine.Builder b = Machine.builder().device(0x3f8, 8, NOTHING);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.device(0x3ff, 1, NOTHING));
        assertEquals("ports 0x3ff+1 overlap a device at 0x3f8", e.getMessage());
    }

    @Test
    void imageBytesAreCopiedWhenGiven() {
        byte[] code = Guests.hex("f4");
        Machine.Builder b = Machine.builder().image(Guests.LOAD, Guests.LOAD, code);
        code[0] = 0x0f; // would be a truncated instruction if the builder had kept the array
        try (Machine m = b.build()) {
            assertEquals((byte) 0xf4, m.memory().readByte(Guests.LOAD));
            assertEquals(new VmExit.AllHalted(), m.run());
        }
    }

    @Test
    void defaultsAreSixteenMibOneVcpuVirtualClockAndCounterTsc() {
        try (Machine m = Machine.builder().image(Guests.LOAD, Guests.LOAD, Guests.hex("f4")).build()) {
            assertEquals(16L << 20, m.memory().size());
            assertEquals(1, m.vcpus().size());
            assertEquals("virtual", m.clock().kind());
            assertEquals(0L, m.clock().nanos());
            assertEquals(0, m.patches().size());
        }
        assertEquals(10_000L, Machine.DEFAULT_QUANTUM);
        assertEquals(1L << 30, Machine.DEFAULT_BUDGET);
    }
}

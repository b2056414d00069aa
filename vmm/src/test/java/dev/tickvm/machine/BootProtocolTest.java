package dev.tickvm.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tickvm.cpu.BootLayout;
import dev.tickvm.cpu.Vcpu;
import dev.tickvm.images.GuestImages;
import dev.tickvm.testing.Guests;
import dev.tickvm.unicorn.Engine;
import dev.tickvm.unicorn.X86Register;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The boot protocol of guest-images/README.md, observed from the guest's registers. */
class BootProtocolTest {

    @Test
    void everyVcpuEntersAtCpl3WithItsIdTheCountAndTheRamSize() {
        long ram = 8L << 20;
        try (Machine m = Guests.builder(Guests.hex("f4"), new Guests.Capture()).vcpus(4).memorySize(ram).build()) {
            assertEquals(new VmExit.AllHalted(), m.run());
            for (Vcpu v : m.vcpus()) {
                Engine e = v.engine();
                int id = v.id();
                assertEquals(id, e.read(X86Register.RDI), "RDI of vCPU " + id);
                assertEquals(4L, e.read(X86Register.RSI), "RSI of vCPU " + id);
                assertEquals(ram, e.read(X86Register.RDX), "RDX of vCPU " + id);
                assertEquals(ram - id * BootLayout.STACK_SIZE, e.read(X86Register.RSP), "RSP of vCPU " + id);
                assertEquals(0x23L, e.read(X86Register.CS), "CS of vCPU " + id); // user code, RPL 3
                assertEquals(0x1bL, e.read(X86Register.SS), "SS of vCPU " + id); // user data, RPL 3
                assertEquals(0x3000L, e.read(X86Register.RFLAGS) & 0x3000, "IOPL of vCPU " + id);
                assertEquals(BootLayout.CR4_TSD, e.read(X86Register.CR4) & BootLayout.CR4_TSD);
                // Halted at the HLT; resumes after it.
                assertEquals(Guests.LOAD + 1, v.rip());
            }
        }
    }

    @Test
    void bootAreaHoldsTheGdtTheIretqStubAndOneFramePerVcpu() {
        try (Machine m = Guests.builder(Guests.hex("f4"), new Guests.Capture()).vcpus(2).build()) {
            assertEquals(0L, m.memory().readLong(BootLayout.GDT_BASE));
            assertEquals(0x00AFFA000000FFFFL, m.memory().readLong(BootLayout.GDT_BASE + 0x20));
            assertEquals((short) 0xcf48, m.memory().readShort(BootLayout.BOOT_STUB)); // 48 cf: iretq
            assertEquals(39, BootLayout.gdtLimit());
            long frame1 = BootLayout.BOOT_FRAMES + BootLayout.BOOT_FRAME_SIZE;
            assertEquals(List.of(Guests.LOAD, 0x23L, 0x3002L, (16L << 20) - BootLayout.STACK_SIZE, 0x1bL),
                    List.of(m.memory().readLong(frame1), m.memory().readLong(frame1 + 8),
                            m.memory().readLong(frame1 + 16), m.memory().readLong(frame1 + 24),
                            m.memory().readLong(frame1 + 32)));
            // Before running, each vCPU is at the boot stub.
            assertEquals(BootLayout.BOOT_STUB, m.vcpus().get(1).rip());
        }
    }

    @Test
    void helloImagePrintsItsVcpuIdAndExitsWithZero() {
        Guests.Capture out = new Guests.Capture();
        try (Machine m = Guests.builder(GuestImages.require("hello"), out).build()) {
            assertEquals(new VmExit.Exited(0), m.run());
        }
        assertEquals("Hello from a tickvm guest on vCPU 0\n", out.serial());
        assertEquals(List.of(0), out.exitCodes());
    }
}

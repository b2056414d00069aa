package dev.tickvm.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.tickvm.cpu.BootLayout;
import dev.tickvm.cpu.FaultKind;
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
                assertEquals(BootLayout.BOOT_CR4, e.read(X86Register.CR4)); // TSD, OSFXSR, OSXMMEXCPT, FSGSBASE
                // Halted at the HLT; resumes after it.
                assertEquals(Guests.LOAD + 1, v.rip());
            }
        }
    }

    @Test
    void bootAreaHoldsTheGdtTheIretqStubAndOneFramePerVcpu() {
        try (Machine m = Guests.builder(Guests.hex("f4"), new Guests.Capture()).vcpus(2).build()) {
            assertEquals(0L, m.memory().readLong(BootLayout.GDT_BASE));
            assertEquals(0x00AFFB000000FFFFL, m.memory().readLong(BootLayout.GDT_BASE + 0x20)); // accessed bit set
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

    /** mov eax, 20; movq xmm0, rax; paddq xmm0, xmm0; movq rbx, xmm0; then 3 + 3 on the x87; exit with the sum. */
    private static final byte[] SSE_AND_X87 = Guests.hex("""
            b814000000 66480f6ec0 660fd4c0 66480f7ec3
            c74424fc03000000 db4424fc d8c0 db5c24fc 035c24fc
            89d8 66baf400 ef""");

    @Test
    void guestsCanUseSseAndTheX87AtCpl3() {
        try (Machine m = Guests.builder(SSE_AND_X87, new Guests.Capture()).build()) {
            assertEquals(new VmExit.Exited(46), m.run());
        }
    }

    /** Why BootLayout.BOOT_CR4 has OSFXSR: on 2.1.x, a CR4 write without it turns SSE off. */
    @Test
    void withoutCr4OsfxsrSseIsAnInvalidOpcodeOnUnicorn21() {
        try (Machine m = Guests.builder(SSE_AND_X87, new Guests.Capture()).build()) {
            m.vcpus().getFirst().engine().write(X86Register.CR4, BootLayout.CR4_TSD);
            VmExit exit = m.run();
            if (m.unicorn().version().hasKnown201Defects()) {
                assertEquals(new VmExit.Exited(46), exit); // 2.0.1 stores CR4 and changes nothing else
            } else {
                VmExit.Faulted f = assertInstanceOf(VmExit.Faulted.class, exit, exit.describe());
                assertEquals(FaultKind.INVALID_OPCODE, f.fault().kind());
                assertEquals(Guests.LOAD + 5, f.fault().rip()); // the MOVQ
            }
        }
    }
}

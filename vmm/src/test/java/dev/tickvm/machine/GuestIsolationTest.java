package dev.tickvm.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.tickvm.cpu.FaultKind;
import dev.tickvm.cpu.VcpuExit;
import dev.tickvm.testing.Guests;
import dev.tickvm.unicorn.X86Register;
import org.junit.jupiter.api.Test;

/**
 * A CPL3 guest cannot reach CPL0 through what the VMM keeps at 0x1000-0x3fff (issue 11, item
 * 1): the GDT, the IRETQ stub and the boot frames. Each attack used to work (vCPU 0 rewrote
 * vCPU 1's frame or stub, vCPU 1 entered at CPL0 and ran RDTSC, RDMSR and MOV from CR0
 * untrapped); each must now end the VM at the guest's write, naming the address.
 */
class GuestIsolationTest {

    private static VcpuExit.Fault refusedWrite(String hex, int vcpus, long address, int size) {
        try (Machine m = Guests.builder(Guests.hex(hex), new Guests.Capture()).vcpus(vcpus).build()) {
            VmExit exit = m.run();
            VmExit.Faulted faulted = assertInstanceOf(VmExit.Faulted.class, exit, exit.describe());
            assertEquals(0, faulted.vcpu(), exit.describe());
            VcpuExit.Fault f = faulted.fault();
            assertEquals(FaultKind.PROTECTION, f.kind(), f.detail());
            assertEquals(Guests.accessDetail(size, address), f.detail());
            // Nobody got to CPL0: every vCPU that ran is still in user mode.
            for (var v : m.vcpus()) {
                if (v.rip() != dev.tickvm.cpu.BootLayout.BOOT_STUB) {
                    assertEquals(3L, v.engine().read(X86Register.CS) & 3, "CPL of vCPU " + v.id());
                }
            }
            return f;
        }
    }

    @Test
    void anotherVcpusBootFrameCannotBeRewritten() {
        // vCPU 0 sets vCPU 1's frame to CS 0x08, SS 0x10 and halts; vCPU 1 would report its CPL.
        refusedWrite("""
                85ff        ; test edi, edi
                7519        ; jnz vcpu1
                48c7042548300000_08000000 ; mov qword [0x3048], 0x08
                48c7042560300000_10000000 ; mov qword [0x3060], 0x10
                f4          ; hlt
                8cc8        ; vcpu1: mov eax, cs
                83e003      ; and eax, 3
                e6f4        ; out 0xf4, al
                """, 2, 0x3048, 8);
    }

    @Test
    void theIretqStubCannotBeRewritten() {
        // vCPU 0 replaces the stub vCPU 1 is about to run at CPL0 with "mov eax, cs; out 0xf4, al".
        refusedWrite("""
                85ff        ; test edi, edi
                7516        ; jnz vcpu1
                c7042500200000_908cc8e6 ; mov dword [0x2000], nop; mov eax, cs; out..
                66c7042504200000_f490   ; mov word [0x2004], ..0xf4; nop
                f4          ; hlt
                f4          ; vcpu1: hlt
                """, 2, 0x2000, 4);
    }

    @Test
    void theGdtCannotBeRewritten() {
        // User code (0x20) made DPL 0; a call gate or a DPL 3 kernel code segment would go the same way.
        refusedWrite("""
                c6042525100000_9a ; mov byte [0x1025], 0x9a
                b007        ; mov al, 7
                e6f4        ; out 0xf4, al
                """, 1, 0x1025, 1);
    }

    @Test
    void aForgedFrameCannotReachCr0EferOrTheHostTsc() {
        // vCPU 0 points vCPU 1's frame at its own code with CS 0x08: MOV from CR0, RDMSR EFER and
        // RDTSC would run at CPL0 with nothing trapped, RDTSC returning the host's TSC.
        refusedWrite("""
                85ff        ; test edi, edi
                7528        ; jnz vcpu1
                488d0522000000           ; lea rax, [rip + payload]
                48890425_40300000        ; mov [0x3040], rax
                48c7042548300000_08000000 ; mov qword [0x3048], 0x08
                48c7042560300000_10000000 ; mov qword [0x3060], 0x10
                f4          ; hlt
                f4          ; vcpu1: hlt
                0f20c0      ; payload: mov rax, cr0
                b9800000c0  ; mov ecx, 0xc0000080 (EFER)
                0f32        ; rdmsr
                0f31        ; rdtsc
                b000        ; mov al, 0
                e6f4        ; out 0xf4, al
                """, 2, 0x3040, 8);
    }

    @Test
    void theBootPagesCannotBeExecutedExceptTheStub() {
        // The frame page holds data only: jumping there is refused before anything runs.
        VcpuExit.Fault f = refusedAccess("""
                b800300000  ; mov eax, 0x3000
                ffe0        ; jmp rax
                """, FaultKind.PROTECTION);
        assertEquals(0x3000L, f.rip());
    }

    @Test
    void theStubRunAtCpl3WithAForgedFrameDoesNotEnterCpl0() {
        // A frame of the guest's own making, CS 0x08 and SS 0x10, popped by the stub's IRETQ at
        // CPL3: the CPU refuses to return to a more privileged level (#GP at the IRETQ).
        VcpuExit.Fault f = refusedAccess("""
                6a10        ; push 0x10
                54          ; push rsp
                9c          ; pushfq
                6a08        ; push 0x08
                488d0508000000 ; lea rax, [rip + 8]
                50          ; push rax
                b800200000  ; mov eax, 0x2000
                ffe0        ; jmp rax
                8cc8        ; mov eax, cs
                e6f4        ; out 0xf4, al
                """, FaultKind.CPU_EXCEPTION);
        assertEquals(0x2000L, f.rip());
        assertEquals(13, f.vector());
    }

    @Test
    void thereAreNoPageTablesAndCr3AndCr0StayOutOfReach() {
        // Unicorn's 64-bit mode runs without paging: no page table in guest RAM translates
        // anything, so there is none to rewrite; loading CR3 or CR0 from CPL3 is a #GP.
        try (Machine m = Guests.builder(Guests.hex("f4"), new Guests.Capture()).build()) {
            m.run();
            long cr0 = m.vcpus().get(0).engine().read(X86Register.CR0);
            assertEquals(0L, cr0 & (1L << 31), "CR0.PG in 0x" + Long.toHexString(cr0));
        }
        for (String load : new String[] {"0f22d8", "0f22c0"}) { // mov cr3, rax; mov cr0, rax
            VcpuExit.Fault f = refusedAccess("31c0" + load + "b000e6f4", FaultKind.CPU_EXCEPTION);
            assertEquals(Guests.LOAD + 2, f.rip());
            assertEquals(13, f.vector());
        }
    }

    /**
     * There is no IDT to attack either (every exception and INT n reaches the VMM's interrupt
     * hook, none goes through a gate), and the guest cannot install one: LIDT and LGDT at CPL3
     * are a #GP, and the IDTR stays empty.
     */
    @Test
    void theGuestCannotLoadAnIdtOrAGdt() {
        for (String load : new String[] {"0f011c2500003000", "0f01142500003000"}) { // lidt [0x300000]; lgdt [0x300000]
            VcpuExit.Fault f = refusedAccess(load + "b000e6f4", FaultKind.CPU_EXCEPTION);
            assertEquals(Guests.LOAD, f.rip());
            assertEquals(13, f.vector());
        }
        try (Machine m = Guests.builder(Guests.hex("f4"), new Guests.Capture()).build()) {
            m.run();
            assertEquals(0L, m.vcpus().get(0).saveState().tables().idtr().base());
            assertEquals(0, m.vcpus().get(0).saveState().tables().idtr().limit());
        }
    }

    @Test
    void theGuestStillReadsTheGdt() {
        // Read-only, not hidden: SGDT tells a guest where it is anyway. Exits with the low byte
        // of user code's access byte, 0xfb.
        try (Machine m = Guests.builder(Guests.hex("8a042525100000 e6f4"), new Guests.Capture()).build()) {
            assertEquals(new VmExit.Exited(0xfb), m.run());
        }
    }

    private static VcpuExit.Fault refusedAccess(String hex, FaultKind kind) {
        try (Machine m = Guests.builder(Guests.hex(hex), new Guests.Capture()).build()) {
            VmExit exit = m.run();
            VcpuExit.Fault f = assertInstanceOf(VmExit.Faulted.class, exit, exit.describe()).fault();
            assertEquals(kind, f.kind(), f.detail());
            return f;
        }
    }
}

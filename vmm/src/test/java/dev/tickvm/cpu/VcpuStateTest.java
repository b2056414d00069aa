package dev.tickvm.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.tickvm.machine.Machine;
import dev.tickvm.machine.VmExit;
import dev.tickvm.testing.Guests;
import dev.tickvm.unicorn.Engine;
import dev.tickvm.unicorn.SegmentDescriptorRegister;
import dev.tickvm.unicorn.Unicorn;
import dev.tickvm.unicorn.X86Register;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/**
 * Saving a vCPU mid-run and building a second one from the state, over a copy of guest memory:
 * both must then finish with the same results and the same register files, bit for bit.
 */
class VcpuStateTest {
    /**
     * Loads distinctive values into every GPR (RSP too: nothing uses the stack), XMM0-15, x87
     * (three values under FPCW "round up") and MXCSR ("round toward zero"), then loops 1000
     * times churning all of them, FS- and GS-relative memory, and a trapped RDTSC at the top of
     * each iteration; exits with 0x2a.
     */
    private static final byte[] CHURN = Guests.hex("""
            ; _start: 0x100000
            dbe3                             ; fninit
            d92dd8010000                     ; fldcw word [rip+fpcw]
            d9eb                             ; fldpi
            d9e8                             ; fld1
            d9ea                             ; fldl2e
            0fae15cf010000                   ; ldmxcsr dword [rip+mxcsr]
            f30f6f05d3010000                 ; movdqu xmm0,[rip+table]
            f30f6f0ddb010000                 ; movdqu xmm1,[rip+table+16]
            f30f6f15e3010000                 ; movdqu xmm2,[rip+table+32]
            f30f6f1deb010000                 ; movdqu xmm3,[rip+table+48]
            f30f6f25f3010000                 ; movdqu xmm4,[rip+table+64]
            f30f6f2dfb010000                 ; movdqu xmm5,[rip+table+80]
            f30f6f3503020000                 ; movdqu xmm6,[rip+table+96]
            f30f6f3d0b020000                 ; movdqu xmm7,[rip+table+112]
            f3440f6f0512020000               ; movdqu xmm8,[rip+table+128]
            f3440f6f0d19020000               ; movdqu xmm9,[rip+table+144]
            f3440f6f1520020000               ; movdqu xmm10,[rip+table+160]
            f3440f6f1d27020000               ; movdqu xmm11,[rip+table+176]
            f3440f6f252e020000               ; movdqu xmm12,[rip+table+192]
            f3440f6f2d35020000               ; movdqu xmm13,[rip+table+208]
            f3440f6f353c020000               ; movdqu xmm14,[rip+table+224]
            f3440f6f3d43020000               ; movdqu xmm15,[rip+table+240]
            48bb1111111111111111             ; mov rbx,0x1111111111111111
            48b92222222222222222             ; mov rcx,0x2222222222222222
            48be3333333333333333             ; mov rsi,0x3333333333333333
            48bf4444444444444444             ; mov rdi,0x4444444444444444
            48bd5555555555555555             ; mov rbp,0x5555555555555555
            48bc6666666666666666             ; mov rsp,0x6666666666666666
            49b87777777777777777             ; mov r8,0x7777777777777777
            49b98888888888888888             ; mov r9,0x8888888888888888
            49ba9999999999999999             ; mov r10,0x9999999999999999
            49bbaaaaaaaaaaaaaaaa             ; mov r11,0xaaaaaaaaaaaaaaaa
            49bcbbbbbbbbbbbbbbbb             ; mov r12,0xbbbbbbbbbbbbbbbb
            49bdcccccccccccccccc             ; mov r13,0xcccccccccccccccc
            49bedddddddddddddddd             ; mov r14,0xdddddddddddddddd
            49c7c7e8030000                   ; mov r15,0x3e8
            ; loop: 0x100126
            0f31                             ; rdtsc
            4801d8                           ; add rax,rbx
            4831cb                           ; xor rbx,rcx
            48c1c10d                         ; rol rcx,0xd
            480fafd6                         ; imul rdx,rsi
            4829fe                           ; sub rsi,rdi
            48c1cf07                         ; ror rdi,0x7
            488d6c4555                       ; lea rbp,[rbp+rax*2+0x55]
            4931c0                           ; xor r8,rax
            4d01c1                           ; add r9,r8
            49c1c203                         ; rol r10,0x3
            4d11d3                           ; adc r11,r10
            4d29dc                           ; sub r12,r11
            4d31e5                           ; xor r13,r12
            4d01ee                           ; add r14,r13
            4881c411110000                   ; add rsp,0x1111
            660fd4c1                         ; paddq xmm0,xmm1
            660fefc8                         ; pxor xmm1,xmm0
            660f58d3                         ; addpd xmm2,xmm3
            660f59dc                         ; mulpd xmm3,xmm4
            0f5ee5                           ; divps xmm4,xmm5
            660ffeee                         ; paddd xmm5,xmm6
            660f51f2                         ; sqrtpd xmm6,xmm2
            66410fd4ff                       ; paddq xmm7,xmm15
            66450fd4c1                       ; paddq xmm8,xmm9
            66450fefd0                       ; pxor xmm10,xmm8
            66450ffddc                       ; paddw xmm11,xmm12
            66450ffbee                       ; psubq xmm13,xmm14
            66450feffd                       ; pxor xmm15,xmm13
            66450f70cb1b                     ; pshufd xmm9,xmm11,0x1b
            66450f5ce6                       ; subpd xmm12,xmm14
            450f58f2                         ; addps xmm14,xmm10
            d8c2                             ; fadd st,st(2)
            d9c9                             ; fxch st(1)
            644801042508000000               ; add qword fs:0x8,rax
            6548012c2510000000               ; add qword gs:0x10,rbp
            49ffcf                           ; dec r15
            0f8560ffffff                     ; jne loop
            66baf400                         ; mov dx,0xf4
            b82a000000                       ; mov eax,0x2a
            ef                               ; out dx,eax
            f4                               ; hlt
            000000000000000000000000000000   ; padding
            ; fpcw: 0x1001e0
            7f0b0000                         ; FPCW 0x0b7f: round up, 64-bit precision, all masked
            ; mxcsr: 0x1001e4
            807f00000000000000000000         ; MXCSR 0x7f80: round toward zero, all masked
            ; table: 0x1001f0
            07060504030201000f0e0d0c0b0a0908 ; XMM0: bytes 00..0f
            17161514131211101f1e1d1c1b1a1918 ; XMM1: bytes 10..1f
            000000000000f03f0000000000000840 ; XMM2: doubles 1.0, 3.0
            9a9999999999b93f9c7500883ce4377e ; XMM3: doubles 0.1, 1e300
            0000803f00000040000040400000e040 ; XMM4: floats 1, 2, 3, 7
            00004040000040400000e04000003041 ; XMM5: floats 3, 3, 7, 11
            00000000000000400000000000001440 ; XMM6: doubles 2.0, 5.0
            70707070707070707171717171717171 ; XMM7
            80808080808080808181818181818181 ; XMM8
            90909090909090909191919191919191 ; XMM9
            a0a0a0a0a0a0a0a0a1a1a1a1a1a1a1a1 ; XMM10
            b0b0b0b0b0b0b0b0b1b1b1b1b1b1b1b1 ; XMM11
            000000205fa002424cce61e3a79df43d ; XMM12: doubles 1e10, 3e-10
            d0d0d0d0d0d0d0d0d1d1d1d1d1d1d1d1 ; XMM13
            cdcccc3dcdcc4c3e9a99993e3333333f ; XMM14: floats 0.1, 0.2, 0.3, 0.7
            f0f0f0f0f0f0f0f0f1f1f1f1f1f1f1f1 ; XMM15
            """);
    private static final long LOOP = 0x100126;
    /** An even budget stops between the patched RDTSC's INT and the rest of the iteration. */
    private static final long MID_LOOP_BUDGET = 600;
    private static final long FS_BASE = 0x300000;
    private static final long GS_BASE = 0x310000;
    private static final int KERNEL_GS_BASE = 0xc0000102;
    private static final long KERNEL_GS_BASE_VALUE = 0xffff_8000_1234_5000L;

    /** RDTSC and RDTSCP always read the same: the two machines have clocks of their own. */
    private static final class FixedTsc implements TrapEmulator {
        @Override
        public long readTsc() {
            return 0x1122_3344_5566_7788L;
        }

        @Override
        public long readTscAux() {
            return 0x99;
        }

        @Override
        public long readMsr(int index) {
            throw new UnknownMsrException(index, "not emulated");
        }

        @Override
        public void writeMsr(int index, long value) {
            throw new UnknownMsrException(index, "not emulated");
        }

        @Override
        public int[] cpuid(int leaf, int subleaf) {
            return null;
        }
    }

    private static Machine churn(Unicorn unicorn) {
        Machine m = Guests.builder(CHURN, new Guests.Capture()).unicorn(unicorn).trapEmulators(i -> new FixedTsc())
                .budget(MID_LOOP_BUDGET).build();
        // Set by the VMM: WRFSBASE needs CR4.FSGSBASE, which Unicorn 2.0.1 cannot honour.
        Engine e = m.vcpus().getFirst().engine();
        e.write(X86Register.FS_BASE, FS_BASE);
        e.write(X86Register.GS_BASE, GS_BASE);
        e.writeMsr(KERNEL_GS_BASE, KERNEL_GS_BASE_VALUE);
        return m;
    }

    /** Guest RAM as a snapshot stores it: every patched site put back. */
    private static byte[] snapshotRam(Machine m) {
        return m.patches().unpatched(m.memory(), 0, Math.toIntExact(m.memory().size()));
    }

    private static VcpuState encodeAndDecode(VcpuState state) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        state.writeTo(new DataOutputStream(bytes));
        return VcpuState.readFrom(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
    }

    @Test
    void stateSavedMidLoopHoldsWhatTheGuestAndTheVmmSet() {
        try (Machine m = churn(Unicorn.get())) {
            assertInstanceOf(VmExit.BudgetExhausted.class, m.run());
            VcpuState s = m.vcpus().getFirst().saveState();
            assertEquals(LOOP + 2, s.rip()); // after the patched RDTSC, before the rest of the iteration
            long left = s.gpr(15);
            assertTrue(left > 0 && left < 1000, "iterations left: " + left);
            assertEquals(new VcpuState.Segments(0x23, 0x1b, 0, 0, 0, 0, FS_BASE, GS_BASE), s.segments());
            assertEquals(KERNEL_GS_BASE_VALUE, s.msr(KERNEL_GS_BASE));
            assertEquals(0x500L, s.msr(0xc0000080)); // EFER: LME and LMA, as Unicorn starts
            assertEquals(BootLayout.BOOT_CR4, s.control().cr4());
            assertEquals(SegmentDescriptorRegister.table(BootLayout.GDT_BASE, BootLayout.gdtLimit()),
                    s.tables().gdtr());
            assertEquals(0x0b7f, s.x87().control());
            assertEquals(5, s.x87().status() >>> 11 & 7); // three loads from TOP 0
            assertEquals(0x7f80, s.sse().mxcsr() & ~0x3f); // the low 6 bits are sticky exception flags
            assertEquals(0x3002L, s.rflags() & 0x3202); // IOPL 3, interrupts off
            assertEquals(VcpuRunState.RUNNABLE, s.runState());
            // Every register class moved away from its load value.
            assertNotEquals(0x1111111111111111L, s.gpr(3));
            assertNotEquals(0x6666666666666666L, s.gpr(4));
            assertNotEquals(0x0706050403020100L, s.sse().xmm().get(0).low());
        }
    }

    @Test
    void vcpuRestoredMidLoopFinishesExactlyAsTheOriginalBitForBit() throws IOException {
        try (Machine original = churn(Unicorn.get())) {
            assertInstanceOf(VmExit.BudgetExhausted.class, original.run());
            VcpuState saved = original.vcpus().getFirst().saveState();
            VcpuState decoded = encodeAndDecode(saved);
            assertEquals(saved, decoded);
            try (Machine restored = Guests.restored(List.of(decoded), snapshotRam(original), new Guests.Capture())
                    .trapEmulators(i -> new FixedTsc()).build()) {
                Vcpu copy = restored.vcpus().getFirst();
                assertEquals(saved, copy.saveState());
                assertEquals(0L, copy.blocks()); // the IRETQ into the saved state ran before any hook

                original.budgetFromNow(Machine.DEFAULT_BUDGET);
                assertEquals(new VmExit.Exited(0x2a), original.run());
                assertEquals(new VmExit.Exited(0x2a), restored.run());
                VcpuState end = original.vcpus().getFirst().saveState();
                assertEquals(end, copy.saveState());
                assertEquals(0L, end.gpr(15));
                assertArrayEquals(snapshotRam(original), snapshotRam(restored));
                assertNotEquals(0L, restored.memory().readLong(FS_BASE + 8));
                assertNotEquals(0L, restored.memory().readLong(GS_BASE + 16));
            }
        }
    }

    /**
     * A state saved under one Unicorn restores under another: set TICKVM_UNICORN_OTHER_LIB to a
     * second libunicorn.so.2 (e.g. Debian bookworm's 2.0.1 when the tests run on 2.1.1).
     */
    @Test
    @EnabledIfEnvironmentVariable(named = "TICKVM_UNICORN_OTHER_LIB", matches = ".+")
    void stateSavedUnderOneUnicornFinishesTheSameUnderAnother() throws IOException {
        Unicorn other = Unicorn.load(Optional.of(Path.of(System.getenv("TICKVM_UNICORN_OTHER_LIB"))));
        assertNotEquals(Unicorn.get().version(), other.version());
        try (Machine original = churn(Unicorn.get())) {
            assertInstanceOf(VmExit.BudgetExhausted.class, original.run());
            VcpuState saved = encodeAndDecode(original.vcpus().getFirst().saveState());
            try (Machine restored = Guests.restored(List.of(saved), snapshotRam(original), new Guests.Capture())
                    .unicorn(other).trapEmulators(i -> new FixedTsc()).build()) {
                original.budgetFromNow(Machine.DEFAULT_BUDGET);
                assertEquals(new VmExit.Exited(0x2a), original.run());
                assertEquals(new VmExit.Exited(0x2a), restored.run());
                assertEquals(original.vcpus().getFirst().saveState(), restored.vcpus().getFirst().saveState());
                assertArrayEquals(snapshotRam(original), snapshotRam(restored));
            }
        }
    }

    @Test
    void ripInsideAPatchedSitesPaddingResumesAfterTheSite() {
        // 0x100000: mov r15d, 100; 0x100006: rdtscp; add rbx, rax; add rbp, rcx; dec r15; jnz 0x100006;
        // mov dx, 0xf4; mov eax, 0x2b; out dx, eax; hlt
        byte[] code = Guests.hex("41bf64000000 0f01f9 4801c3 4801cd 49ffcf 75f2 66baf400 b82b000000 ef f4");
        long site = 0x100006;
        // Blocks: the stub, the entry up to the RDTSCP's first #GP, the rest of the iteration,
        // then "INT n" and the rest, in turn. Ten blocks stop right after an INT n: at the NOP
        // that pads the 3-byte RDTSCP, which a snapshot's memory does not have.
        try (Machine original = Guests.builder(code, new Guests.Capture()).trapEmulators(i -> new FixedTsc())
                .budget(10).build()) {
            assertInstanceOf(VmExit.BudgetExhausted.class, original.run());
            Vcpu v = original.vcpus().getFirst();
            assertEquals(site + 2, v.rip());
            assertArrayEquals(Guests.hex("cdf190"), original.memory().read(site, 3));
            VcpuState saved = v.saveState();
            assertEquals(site + 3, saved.rip());
            byte[] ram = snapshotRam(original);
            assertArrayEquals(Guests.hex("0f01f9"), java.util.Arrays.copyOfRange(ram, (int) site, (int) site + 3));
            try (Machine restored = Guests.restored(List.of(saved), ram, new Guests.Capture())
                    .trapEmulators(i -> new FixedTsc()).build()) {
                original.budgetFromNow(Machine.DEFAULT_BUDGET);
                assertEquals(new VmExit.Exited(0x2b), original.run());
                assertEquals(new VmExit.Exited(0x2b), restored.run());
                VcpuState end = original.vcpus().getFirst().saveState();
                assertEquals(end, restored.vcpus().getFirst().saveState());
                assertEquals(100 * 0x5566_7788L, end.gpr(3)); // RBX: 100 low halves
                assertEquals(100 * 0x99L, end.gpr(5)); // RBP: 100 TSC_AUX values
            }
        }
    }

    @Test
    void haltedVcpuIsRestoredHaltedAndWakesLikeTheOriginal() {
        // hlt; mov eax, 7; mov dx, 0xf4; out dx, eax
        byte[] code = Guests.hex("f4 b807000000 66baf400 ef");
        try (Machine original = Guests.builder(code, new Guests.Capture()).build()) {
            assertEquals(new VmExit.AllHalted(), original.run());
            VcpuState saved = original.vcpus().getFirst().saveState();
            assertEquals(VcpuRunState.HALTED, saved.runState());
            assertEquals(Guests.LOAD + 1, saved.rip());
            try (Machine restored = Guests.restored(List.of(saved), snapshotRam(original), new Guests.Capture())
                    .build()) {
                assertEquals(VcpuRunState.HALTED, restored.runState(0));
                assertEquals(new VmExit.AllHalted(), restored.run());
                restored.wake(0);
                assertEquals(VcpuRunState.RUNNABLE, restored.runState(0));
                assertEquals(new VmExit.Exited(7), restored.run());
            }
        }
    }

    @Test
    void pendingWakeUpOfAVcpuThatNeverRanSurvivesARestore() {
        // hlt; mov eax, 8; mov dx, 0xf4; out dx, eax
        byte[] code = Guests.hex("f4 b808000000 66baf400 ef");
        try (Machine original = Guests.builder(code, new Guests.Capture()).build()) {
            original.wake(0);
            VcpuState saved = original.vcpus().getFirst().saveState();
            // Still at the CPL0 boot stub with Unicorn's null selectors: restored without IRETQ.
            assertEquals(VcpuRunState.WAKE_PENDING, saved.runState());
            assertEquals(BootLayout.BOOT_STUB, saved.rip());
            assertEquals(0, saved.segments().cpl());
            try (Machine restored = Guests.restored(List.of(saved), snapshotRam(original), new Guests.Capture())
                    .build()) {
                assertEquals(saved, restored.vcpus().getFirst().saveState());
                // The HLT falls through, as with an interrupt pending.
                assertEquals(new VmExit.Exited(8), restored.run());
                assertEquals(new VmExit.Exited(8), original.run());
                assertEquals(original.vcpus().getFirst().saveState(), restored.vcpus().getFirst().saveState());
            }
        }
    }

    @Test
    void aCpl0StateIsOnlyAVcpuAtTheBootStubWithAUserModeFrame() {
        // Restoring writes CS without changing the CPL: a CPL0 state elsewhere, or a boot frame
        // aimed at CS 0x08, would run guest code at CPL0 (issue 11.1, through a forged snapshot).
        try (Machine original = Guests.builder(Guests.hex("f4"), new Guests.Capture()).build()) {
            VcpuState s = original.vcpus().getFirst().saveState();
            assertEquals(0, s.segments().cpl());
            VcpuState elsewhere = new VcpuState(s.generalRegisters(), Guests.LOAD, s.rflags(), s.segments(),
                    s.control(), s.debug(), s.tables(), s.msrs(), s.x87(), s.sse(), s.runState());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Guests.restored(List.of(elsewhere), snapshotRam(original), new Guests.Capture()).build());
            assertEquals("vCPU 0: a state at CPL0 must be at the boot stub 0x2000 with RSP 0x3000 (a vCPU that has"
                    + " not run yet), not RIP 0x100000 RSP 0x3000", e.getMessage());
            byte[] ram = snapshotRam(original);
            ram[0x3008] = 0x08; // the frame's CS
            e = assertThrows(IllegalArgumentException.class,
                    () -> Guests.restored(List.of(s), ram, new Guests.Capture()).build());
            assertEquals("vCPU 0: its boot frame at 0x3000 enters CS 0x8 SS 0x1b, not user mode", e.getMessage());
        }
    }

    @Test
    void faultedVcpuIsRestoredFaultedAndItsVmStaysEnded() {
        byte[] code = Guests.hex("90 0f0b"); // nop; ud2
        try (Machine original = Guests.builder(code, new Guests.Capture()).build()) {
            VmExit.Faulted faulted = assertInstanceOf(VmExit.Faulted.class, original.run());
            assertEquals(faulted, original.run()); // once faulted, the VM returns that fault again
            VcpuState saved = original.vcpus().getFirst().saveState();
            assertEquals(new VcpuRunState.Faulted(faulted.fault()), saved.runState());
            assertEquals(Guests.LOAD + 1, saved.rip());
            try (Machine restored = Guests.restored(List.of(saved), snapshotRam(original), new Guests.Capture())
                    .build()) {
                assertEquals(faulted, restored.run());
                assertEquals(0L, restored.vcpus().getFirst().blocks());
                IllegalStateException e = assertThrows(IllegalStateException.class,
                        () -> restored.vcpus().getFirst().run(1));
                assertTrue(e.getMessage().startsWith("vCPU 0 cannot run: Faulted[fault=Fault[invalid instruction"),
                        e.getMessage());
            }
        }
    }

    @Test
    void restoreRefusesAStateTheEngineCannotHold() {
        try (Machine original = Guests.builder(Guests.hex("f4"), new Guests.Capture()).build()) {
            original.run();
            VcpuState s = original.vcpus().getFirst().saveState();
            // IA32_SYSENTER_CS is 32 bits wide in Unicorn: the upper half cannot be held.
            List<VcpuState.MsrValue> msrs = s.msrs().stream()
                    .map(m -> m.index() == 0x174 ? new VcpuState.MsrValue(0x174, 0x1_0000_0010L) : m).toList();
            VcpuState bad = new VcpuState(s.generalRegisters(), s.rip(), s.rflags(), s.segments(), s.control(),
                    s.debug(), s.tables(), msrs, s.x87(), s.sse(), s.runState());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Guests.restored(List.of(bad), snapshotRam(original), new Guests.Capture()).build());
            assertTrue(e.getMessage().startsWith("vCPU 0 cannot be restored on " + Unicorn.get().describe()
                    + ": MSRs: saved [MsrValue[index=372, value=4294967312]"), e.getMessage());
        }
    }

    @Test
    void savingWhileExitsAreQueuedIsRefused() {
        // Two flagged OUTs in one block: the second waits in the vCPU's queue after the first returns.
        // mov dx, 0xf4; mov eax, 1; out dx, eax; mov eax, 2; out dx, eax; hlt
        byte[] code = Guests.hex("66baf400 b801000000 ef b802000000 ef f4");
        try (Machine m = Guests.builder(code, new Guests.Capture()).build()) {
            assertEquals(new VmExit.Exited(1), m.run());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.vcpus().getFirst().saveState());
            assertEquals("vCPU 0 has 1 queued exits the VMM has not seen; run it until they are returned, then save",
                    e.getMessage());
            assertEquals(new VmExit.Exited(2), m.run());
            // At the HLT, which trapped after the OUTs and runs again when the vCPU does.
            assertEquals(Guests.LOAD + 16, m.vcpus().getFirst().saveState().rip());
        }
    }

    @Test
    void wrfsbaseWorksAtCpl3OnUnicorn21() {
        assumeFalse(Unicorn.get().version().hasKnown201Defects(), "2.0.1 has no FSGSBASE whatever CR4 says");
        // mov rax, 0x300000; wrfsbase rax; mov dword fs:[4], 0x45; mov eax, [0x300004]; mov dx, 0xf4; out dx, eax
        byte[] code = Guests.hex("48c7c000003000 f3480faed0 64c704250400000045000000 8b042504003000 66baf400 ef");
        try (Machine m = Guests.builder(code, new Guests.Capture()).build()) {
            assertEquals(new VmExit.Exited(0x45), m.run());
            assertEquals(0x300000L, m.vcpus().getFirst().saveState().segments().fsBase());
        }
    }
}

package dev.tickvm.machine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickvm.cpu.FaultKind;
import dev.tickvm.cpu.TrapMode;
import dev.tickvm.cpu.Vcpu;
import dev.tickvm.host.CostModel;
import dev.tickvm.host.VirtualClock;
import dev.tickvm.images.GuestImage;
import dev.tickvm.images.GuestImages;
import dev.tickvm.testing.Guests;
import dev.tickvm.unicorn.Engine;
import dev.tickvm.unicorn.X86Register;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Trapped time instructions and the CounterTsc formula (guest TSC = 3 x virtual host ns).
 *
 * <p>How the virtual clock moves (Vcpu.chargeClock): after every uc_emu_start, and in PATCH mode
 * inside the interrupt hook before emulating a patched site, the clock is charged for the blocks
 * and exits counted since the last charge. The block hook counts a block before it runs. A
 * trap that stops the engine (every trap in FAULT mode, the first one at each site in PATCH mode)
 * counts its exit after that charge, so it is paid for at the next charge.
 */
class TrappedTimeTest {
    /**
     * rdtsc; shl rdx, 32; or rax, rdx; mov r8, rax; rdtsc; shl rdx, 32; or rax, rdx; mov r9, rax;
     * hlt. Two distinct RDTSC sites, so both trap through the fault path in both modes.
     */
    private static final String TWO_RDTSCS = "0f31 48c1e220 4809d0 4989c0 0f31 48c1e220 4809d0 4989c1 f4";

    @ParameterizedTest
    @EnumSource(TrapMode.class)
    void oneMillionConsecutiveRdtscsAreAllTrappedAndEmulated(TrapMode mode) {
        GuestImage image = GuestImages.require("rdtsc-loop");
        Guests.Capture out = new Guests.Capture();
        try (Machine m = Guests.builder(image, out).trapMode(mode).build()) {
            assertEquals(new VmExit.Exited(0), m.run());
            Vcpu v = m.vcpus().getFirst();
            assertEquals(1_000_000L, v.traps());
            // rdtsc-loop has two RDTSC sites: the first reading before the loop (0x100000) and
            // the one in the loop (0x100015). In PATCH mode each faults once and is then patched,
            // so 1,000,000 - 2 traps go through INT n. (Not 999,999 and 1 site: see the image.)
            long loopSite = image.loadAddress()
                    + Guests.uniqueOffset(image.code(), Guests.hex("0f31 48c1e220 4809d0 4c39f0"));
            assertEquals(0x100015L, loopSite);
            if (mode == TrapMode.PATCH) {
                assertEquals(999_998L, v.patchedTraps());
                assertEquals(2, m.patches().size());
                assertEquals(image.loadAddress(), m.patches().at(image.loadAddress()).address());
                assertEquals(loopSite, m.patches().at(loopSite).address());
            } else {
                assertEquals(0L, v.patchedTraps());
                assertEquals(0, m.patches().size());
            }
        }
        assertEquals(List.of(0), out.exitCodes());
        String[] lines = out.serial().split("\n");
        assertEquals("rdtsc-loop: 1000000 readings, monotonic", lines[0]);
        // First reading: 2 blocks (boot stub, first guest block) x 2 ns and its own exit, 50 ns:
        // 3 x 54 = 162.
        assertTrue(lines[1].startsWith("rdtsc-loop: first 0x00000000000000a2 last 0x"), lines[1]);
    }

    @ParameterizedTest
    @EnumSource(TrapMode.class)
    void guestTscIsThreeTimesVirtualHostNanosWithTheDefaultCostModel(TrapMode mode) {
        try (Machine m = Guests.builder(Guests.hex(TWO_RDTSCS), new Guests.Capture()).trapMode(mode).build()) {
            assertEquals(new VmExit.AllHalted(), m.run());
            Engine e = m.vcpus().getFirst().engine();
            // A trap's own exit is charged before the TSC is read, in both trap modes.
            // First RDTSC: boot stub + block at 0x100000 = 2 blocks, 1 exit -> 54 ns -> TSC 162.
            assertEquals(3 * (2 * 2 + 50), e.read(X86Register.R8));
            // Second RDTSC: + the block at 0x100002 and its exit: 3 blocks, 2 exits.
            assertEquals(3 * (3 * 2 + 2 * 50), e.read(X86Register.R9));
            assertEquals(3 * (CostModel.DEFAULT.nanosPerBlock() + CostModel.DEFAULT.nanosPerExit()),
                    e.read(X86Register.R9) - e.read(X86Register.R8));
            // At the end: 4 blocks (the last one, after the second RDTSC, ends at the HLT) and
            // three exits: two RDTSCs and the HLT.
            assertEquals(4L, m.blocks());
            assertEquals(4 * 2 + 3 * 50, m.clock().nanos());
        }
    }

    @ParameterizedTest
    @EnumSource(TrapMode.class)
    void guestTscCountsOnlyExitsUnderAnExitOnlyCostModel(TrapMode mode) {
        VirtualClock clock = new VirtualClock(new CostModel(0, 1000));
        try (Machine m = Guests.builder(Guests.hex(TWO_RDTSCS), new Guests.Capture()).trapMode(mode).clock(clock)
                .build()) {
            assertEquals(new VmExit.AllHalted(), m.run());
            Engine e = m.vcpus().getFirst().engine();
            assertEquals(3_000L, e.read(X86Register.R8));
            assertEquals(6_000L, e.read(X86Register.R9));
            assertEquals(3_000L, clock.nanos());
        }
    }

    @ParameterizedTest
    @EnumSource(TrapMode.class)
    void advancingTheVirtualClockIsSeenByTheGuestTimesThree(TrapMode mode) {
        VirtualClock clock = new VirtualClock(new CostModel(0, 0));
        clock.advance(1_000_000_007L);
        try (Machine m = Guests.builder(Guests.hex(TWO_RDTSCS), new Guests.Capture()).trapMode(mode).clock(clock)
                .build()) {
            assertEquals(new VmExit.AllHalted(), m.run());
            Engine e = m.vcpus().getFirst().engine();
            assertEquals(3_000_000_021L, e.read(X86Register.R8)); // above 2^32: EDX carries the high half
            assertEquals(3_000_000_021L, e.read(X86Register.R9));
        }
    }

    @ParameterizedTest
    @EnumSource(TrapMode.class)
    void rdtscWritesEdxEaxAndClearsTheUpperHalves(TrapMode mode) {
        // mov rax, -1; mov rdx, -1; rdtsc; hlt
        VirtualClock clock = new VirtualClock(new CostModel(0, 0));
        clock.advance(0x1_2345_6789L);
        try (Machine m = Guests.builder(Guests.hex("48c7c0ffffffff 48c7c2ffffffff 0f31 f4"), new Guests.Capture())
                .trapMode(mode).clock(clock).build()) {
            assertEquals(new VmExit.AllHalted(), m.run());
            Engine e = m.vcpus().getFirst().engine();
            long tsc = 3 * 0x1_2345_6789L;
            assertEquals(tsc & 0xffff_ffffL, e.read(X86Register.RAX));
            assertEquals(tsc >>> 32, e.read(X86Register.RDX));
        }
    }

    @ParameterizedTest
    @EnumSource(TrapMode.class)
    void rdmsrOfIa32TscReadsTheSameCounterAsRdtsc(TrapMode mode) {
        // rdtsc; mov r8d, eax; mov ecx, 0x10; rdmsr; mov r9d, eax; hlt
        VirtualClock clock = new VirtualClock(new CostModel(0, 1000));
        try (Machine m = Guests.builder(Guests.hex("0f31 4189c0 b910000000 0f32 4189c1 f4"), new Guests.Capture())
                .trapMode(mode).clock(clock).build()) {
            assertEquals(new VmExit.AllHalted(), m.run());
            Engine e = m.vcpus().getFirst().engine();
            assertEquals(3_000L, e.read(X86Register.R8));
            assertEquals(6_000L, e.read(X86Register.R9));
            assertEquals(3L, m.vcpus().getFirst().traps()); // RDTSC, RDMSR and the HLT
        }
    }

    @ParameterizedTest
    @EnumSource(TrapMode.class)
    void wrmsrToAnyMsrEndsTheVmWithUnknownMsr(TrapMode mode) {
        // mov ecx, 0x10; xor eax, eax; xor edx, edx; wrmsr; hlt
        try (Machine m = Guests.builder(Guests.hex("b910000000 31c0 31d2 0f30 f4"), new Guests.Capture())
                .trapMode(mode).build()) {
            VmExit.Faulted f = assertInstanceOf(VmExit.Faulted.class, m.run());
            assertEquals(FaultKind.UNKNOWN_MSR, f.fault().kind());
            assertEquals(Guests.LOAD + 9, f.fault().rip());
            assertEquals(13, f.fault().vector());
            assertEquals("WRMSR MSR 0x10: not emulated", f.fault().detail());
            assertArrayEquals(Guests.hex("0f30"), f.fault().bytes());
        }
    }

    /**
     * The guest learns the 3 GHz from the hypervisor's timing leaf, as under KVM: max leaf
     * 0x40000010 with no signature (so no kvmclock), EAX of 0x40000010 = 3,000,000 kHz, and the
     * leaves between them empty. mov eax, 0x40000000; cpuid; mov r8, rax; mov r9, rbx;
     * mov eax, 0x40000010; cpuid; mov r10, rax; mov eax, 0x40000005; cpuid; mov r11, rax; hlt.
     */
    @Test
    void cpuidTimingLeafGivesTheCounterFrequency() {
        String code = "b800000040 0fa2 4989c0 4989d9 b810000040 0fa2 4989c2 b805000040 0fa2 4989c3 f4";
        try (Machine m = Guests.builder(Guests.hex(code), new Guests.Capture()).build()) {
            assertEquals(new VmExit.AllHalted(), m.run());
            Engine e = m.vcpus().getFirst().engine();
            assertEquals(0x40000010L, e.read(X86Register.R8));
            assertEquals(0L, e.read(X86Register.R9));
            assertEquals(3_000_000L, e.read(X86Register.R10));
            assertEquals(CounterTsc.TSC_KHZ, e.read(X86Register.R10));
            assertEquals(0L, e.read(X86Register.R11));
        }
    }

    @Test
    void faultAndPatchModesGiveTheSameTscReadingsForARepeatedSite() {
        // mov ecx, 3; L: rdtsc; mov r8, rax; dec ecx; jnz L; hlt
        byte[] code = Guests.hex("b903000000 0f31 4989c0 ffc9 75f7 f4");
        long[] lastReading = new long[2];
        for (TrapMode mode : TrapMode.values()) {
            VirtualClock clock = new VirtualClock(new CostModel(0, 1000));
            try (Machine m = Guests.builder(code, new Guests.Capture()).trapMode(mode).clock(clock).build()) {
                assertEquals(new VmExit.AllHalted(), m.run());
                lastReading[mode.ordinal()] = m.vcpus().getFirst().engine().read(X86Register.R8);
            }
        }
        assertEquals(lastReading[TrapMode.FAULT.ordinal()], lastReading[TrapMode.PATCH.ordinal()],
                "third RDTSC reading, FAULT vs PATCH");
    }
}

package dev.tickvm.machine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickvm.bus.PortIoDevice;
import dev.tickvm.cpu.Vcpu;
import dev.tickvm.cpu.VcpuRunState;
import dev.tickvm.images.GuestImage;
import dev.tickvm.images.GuestImages;
import dev.tickvm.testing.Guests;
import dev.tickvm.unicorn.X86Register;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The round-robin scheduler: determinism, quanta, budget, halting and pausing. */
class SchedulerTest {

    /** Everything observable about one smp-hello run. */
    private record SmpRun(VmExit exit, byte[] serial, long clockNanos, long blocks, List<Long> blocksPerVcpu) {
    }

    private static SmpRun runSmpHello(int vcpus, long quantum) {
        Guests.Capture out = new Guests.Capture();
        GuestImage image = GuestImages.require("smp-hello");
        try (Machine m = Guests.builder(image, out).vcpus(vcpus).quantum(quantum).budget(1_000_000).build()) {
            VmExit exit = m.run();
            return new SmpRun(exit, out.serialBytes(), m.clock().nanos(), m.blocks(),
                    m.vcpus().stream().map(Vcpu::blocks).toList());
        }
    }

    private static void assertEveryVcpuReported(String serial, int vcpus) {
        List<String> lines = Arrays.asList(serial.split("\n"));
        assertEquals(vcpus + 1, lines.size(), serial);
        for (int i = 0; i < vcpus; i++) {
            assertTrue(lines.contains("smp-hello: hello from vCPU " + i), "line of vCPU " + i + " in\n" + serial);
        }
        assertEquals("smp-hello: all " + vcpus + " vCPUs reported", lines.getLast());
        assertTrue(serial.endsWith("\n"));
    }

    @Test
    void smpHelloOnEightVcpusIsReproducibleBitForBit() {
        SmpRun first = runSmpHello(8, Machine.DEFAULT_QUANTUM);
        SmpRun second = runSmpHello(8, Machine.DEFAULT_QUANTUM);
        assertEquals(new VmExit.Exited(0), first.exit());
        assertEquals(new VmExit.Exited(0), second.exit());
        assertArrayEquals(first.serial(), second.serial());
        assertEquals(first.clockNanos(), second.clockNanos());
        assertEquals(first.blocks(), second.blocks());
        assertEquals(first.blocksPerVcpu(), second.blocksPerVcpu());
        assertEquals(first.blocks(), first.blocksPerVcpu().stream().mapToLong(Long::longValue).sum());
        assertEveryVcpuReported(new String(first.serial(), StandardCharsets.US_ASCII), 8);
    }

    @Test
    void smpHelloCompletesWithASmallQuantum() {
        SmpRun run = runSmpHello(8, 2);
        assertEquals(new VmExit.Exited(0), run.exit());
        assertEveryVcpuReported(new String(run.serial(), StandardCharsets.US_ASCII), 8);
    }

    @Test
    void smpHelloCompletesWithTheSmallestQuantum() {
        SmpRun run = runSmpHello(8, Machine.MIN_QUANTUM);
        assertEquals(new VmExit.Exited(0), run.exit());
        assertEveryVcpuReported(new String(run.serial(), StandardCharsets.US_ASCII), 8);
    }

    @Test
    void blockCountAndBudgetCountOnlyBlocksThatRan() {
        try (Machine m = Guests.builder(Guests.hex("48ffc3 ebfb"), new Guests.Capture()).budget(100).quantum(10)
                .build()) {
            assertEquals(new VmExit.BudgetExhausted(100, 0, Guests.LOAD), m.run());
            assertEquals(100L, m.blocks());
            assertEquals(99L, m.vcpus().getFirst().engine().read(X86Register.RBX));
        }
    }

    /**
     * The budget's message names the vCPU that ran its last block: vCPU 0 spent all 100 in its
     * first turn, and vCPU 1, next in line, had not run (it was named before).
     */
    @Test
    void budgetNamesTheVcpuThatRanTheLastBlock() {
        try (Machine m = Guests.builder(Guests.hex("ebfe"), new Guests.Capture()).vcpus(2).budget(100).quantum(100)
                .build()) {
            assertEquals(new VmExit.BudgetExhausted(100, 0, Guests.LOAD), m.run());
            assertEquals(100L, m.vcpus().get(0).blocks());
            assertEquals(0L, m.vcpus().get(1).blocks());
        }
        try (Machine m = Guests.builder(Guests.hex("ebfe"), new Guests.Capture()).vcpus(2).budget(150).quantum(100)
                .build()) {
            assertEquals(new VmExit.BudgetExhausted(150, 1, Guests.LOAD), m.run());
        }
    }

    /**
     * A new trap site past the first 1,024 counts as 8,192 blocks (issue 11.8): 1,027 distinct
     * RDTSCs and a spin end with 3 * 8,192 of their budget spent on sites. Before, a guest of
     * 458,753 distinct RDTSCs ran 119 s inside the default budget.
     */
    @Test
    void newTrapSitesPastAThousandCountAsThousandsOfBlocks() {
        String code = "0f31".repeat(1_027) + "ebfe";
        long budget = 3 * Machine.BLOCKS_PER_NEW_SITE + 5_000;
        try (Machine m = Guests.builder(Guests.hex(code), new Guests.Capture()).budget(budget).quantum(10).build()) {
            VmExit exit = m.run();
            VmExit.BudgetExhausted b = assertInstanceOf(VmExit.BudgetExhausted.class, exit);
            assertEquals(1_027L, b.sites());
            assertEquals(m.blocks() + 3 * 8_192, b.blocks());
            assertEquals(Guests.LOAD + 2 * 1_027, b.rip(), "at the spin");
            assertTrue(b.blocks() >= budget && b.blocks() < budget + 8_192 + 10, b::toString);
            assertEquals(String.format("guest ran %,d blocks without stopping (the budget), 24,576 of them for its 1,027"
                    + " new trap sites; vCPU 0 was at RIP 0x%x", b.blocks(), b.rip()), exit.describe());
        }
    }

    @Test
    void budgetEndsARunawayGuestAfterExactlyThatManyBlocks() {
        GuestImage image = GuestImages.require("fault-loop");
        long spin = image.loadAddress() + Guests.uniqueOffset(image.code(), Guests.hex("5e ebfe")) + 1;
        for (long quantum : new long[] {Machine.DEFAULT_QUANTUM, 7}) {
            Guests.Capture out = new Guests.Capture();
            try (Machine m = Guests.builder(image, out).budget(100_000).quantum(quantum).build()) {
                assertEquals(new VmExit.BudgetExhausted(100_000, 0, spin), m.run(), "quantum " + quantum);
                assertEquals(100_000L, m.blocks());
                // 2 ns per block, plus 50 ns per exit: one OUT per character of the banner.
                assertEquals(100_000L * 2 + "fault-loop: spinning forever\n".length() * 50L, m.clock().nanos());
            }
            assertEquals("fault-loop: spinning forever\n", out.serial());
        }
    }

    @Test
    void vmEndsAllHaltedWhenEveryVcpuHalts() {
        try (Machine m = Guests.builder(Guests.hex("f4"), new Guests.Capture()).vcpus(3).build()) {
            assertEquals(new VmExit.AllHalted(), m.run());
            for (Vcpu v : m.vcpus()) {
                assertEquals(Guests.LOAD + 1, v.rip());
                assertEquals(1L, v.traps());
            }
            // Nothing can wake them: running again changes nothing.
            assertEquals(new VmExit.AllHalted(), m.run());
            assertEquals(6L, m.blocks()); // boot stub and the HLT block, per vCPU
        }
    }

    @Test
    void haltedVcpusAreSkippedWhileOthersRun() {
        // vCPU 0: spin until the counter at 0x101000 reaches 2, then debug-exit with it;
        // vCPUs 1 and 2: lock inc the counter, then halt.
        //   test edi, edi; jnz worker
        //   spin: mov eax, [0x101000]; cmp eax, 2; jb spin; mov dx, 0xf4; out dx, eax; hlt
        //   worker: lock inc dword [0x101000]; hlt
        byte[] code = Guests.hex("85ff 7512 8b042500101000 83f802 72f4 66baf400 ef f4"
                + " f0ff042500101000 f4");
        Guests.Capture out = new Guests.Capture();
        try (Machine m = Guests.builder(code, out).vcpus(3).memorySize(4L << 20).quantum(5).build()) {
            assertEquals(new VmExit.Exited(2), m.run());
            assertEquals(2, m.memory().readInt(0x101000));
        }
        assertEquals(List.of(2), out.exitCodes());
    }

    @Test
    void pausedVmResumesWhereItStopped() {
        // mov dx, 0xf4; mov eax, 1; out dx, eax; jmp next; next: mov eax, 7; out dx, eax; hlt
        byte[] code = Guests.hex("66baf400 b801000000 ef eb00 b807000000 ef f4");
        List<Integer> seen = new ArrayList<>();
        try (Machine m = Machine.builder().image(Guests.LOAD, Guests.LOAD, code)
                .device(0xf4, 1, flagEveryWrite())
                .onIoOut((vcpu, io) -> {
                    seen.add(io.value());
                    return io.value() == 1 ? IoOutHandler.IoAction.PAUSE : new IoOutHandler.IoAction.Exit(io.value());
                }).build()) {
            assertEquals(new VmExit.Paused(0), m.run());
            assertEquals(List.of(1), seen);
            assertEquals(Guests.LOAD + 12, m.vcpus().getFirst().rip()); // at "next"
            assertEquals(new VmExit.Exited(7), m.run());
            assertEquals(List.of(1, 7), seen);
        }
    }

    /*
     * A flagged OUT reaches the VMM when the engine stops, at the end of the guest's translated
     * block (Unicorn cannot stop mid-block from an instruction hook, and RIP is not synced there).
     * The device itself saw each write at once; the handler sees every one of them, in order.
     */
    @Test
    void everyFlaggedOutOfABlockReachesTheHandlerInOrderAtTheBlockEnd() {
        // mov dx, 0xf4; mov eax, 1; out dx, eax; inc ebx; mov eax, 2; out dx, eax; inc ebx;
        // mov eax, 3; out dx, eax; hlt
        byte[] code = Guests.hex("66baf400 b801000000 ef ffc3 b802000000 ef ffc3 b803000000 ef f4");
        List<String> seen = new ArrayList<>();
        Machine[] machine = new Machine[1];
        try (Machine m = Machine.builder().image(Guests.LOAD, Guests.LOAD, code)
                .device(0xf4, 1, flagEveryWrite())
                .onIoOut((vcpu, io) -> {
                    long rbx = machine[0].vcpus().get(vcpu).engine().read(X86Register.RBX);
                    seen.add(io.value() + " with RBX=" + rbx);
                    return IoOutHandler.IoAction.CONTINUE;
                }).build()) {
            machine[0] = m;
            assertEquals(new VmExit.AllHalted(), m.run());
        }
        assertEquals(List.of("1 with RBX=2", "2 with RBX=2", "3 with RBX=2"), seen);
    }

    @Test
    void aParkedVcpuDoesNotRunUntilWokenAndThenItsFirstHltFallsThrough() {
        // hlt; mov dx, 0xf4; mov eax, edi; add eax, 40; out dx, eax; hlt  (exit code 40 + vCPU id)
        byte[] code = Guests.hex("f4 66baf400 89f8 83c028 ef f4");
        try (Machine m = Guests.builder(code, new Guests.Capture()).vcpus(2).build()) {
            m.park(0);
            m.park(1);
            assertEquals(new VmExit.AllHalted(), m.run());
            assertEquals(0, m.blocks(), "nothing ran");
            m.wake(1);
            assertEquals(new VmExit.Exited(41), m.run());
            assertEquals(0, m.vcpus().getFirst().blocks());
            assertThrows(IllegalStateException.class, () -> m.park(1));
        }
    }

    private static PortIoDevice flagEveryWrite() {
        return PortIoDevice.doorbell();
    }

    @Test
    void wokenVcpuResumesAfterItsHlt() {
        // hlt; mov eax, 5; mov dx, 0xf4; out dx, eax
        try (Machine m = Guests.builder(Guests.hex("f4 b805000000 66baf400 ef"), new Guests.Capture()).build()) {
            assertEquals(VcpuRunState.RUNNABLE, m.runState(0));
            assertEquals(new VmExit.AllHalted(), m.run());
            assertEquals(VcpuRunState.HALTED, m.runState(0));
            assertTrue(m.isHalted(0));
            m.wake(0);
            assertEquals(VcpuRunState.RUNNABLE, m.runState(0));
            assertEquals(new VmExit.Exited(5), m.run());
        }
    }

    @Test
    void wakeUpBeforeTheHltIsKeptAndTheHltFallsThrough() {
        try (Machine m = Guests.builder(Guests.hex("f4 b805000000 66baf400 ef"), new Guests.Capture()).build()) {
            m.wake(0);
            m.wake(0); // a second wake-up changes nothing: one is pending
            assertEquals(VcpuRunState.WAKE_PENDING, m.runState(0));
            assertEquals(new VmExit.Exited(5), m.run());
            assertEquals(VcpuRunState.RUNNABLE, m.runState(0));
        }
    }
}

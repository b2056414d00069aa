package dev.tickvm.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tickvm.bus.PortIoDevice;
import dev.tickvm.host.CostModel;
import dev.tickvm.host.VirtualClock;
import dev.tickvm.testing.Guests;
import dev.tickvm.unicorn.Engine;
import dev.tickvm.unicorn.Unicorn;
import dev.tickvm.unicorn.X86Register;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Guest IN and OUT at CPL3 (IOPL 3) reach the machine's port bus. */
class GuestPortIoTest {

    @Test
    void guestInAndOutReachTheBusWithDeviceRelativeOffsets() {
        // mov dx, 0x61; in eax, dx; mov r8, rax; mov dx, 0x3fd; in al, dx; mov r9, rax;
        // mov ebx, 42; mov dx, 0x3f8; mov al, 'A'; out dx, al; mov dx, 0x3fb; out dx, al; hlt
        byte[] code = Guests.hex("66ba6100 ed 4989c0 66bafd03 ec 4989c1 bb2a000000 66baf803 b041 ee 66bafb03 ee f4");
        Guests.Capture out = new Guests.Capture();
        try (Machine m = Guests.builder(code, out).build()) {
            assertEquals(new VmExit.AllHalted(), m.run());
            Engine e = m.vcpus().getFirst().engine();
            assertEquals(0xffff_ffffL, e.read(X86Register.R8)); // unclaimed port: all ones
            assertEquals(0xffff_ff60L, e.read(X86Register.R9)); // IN AL from offset 5 of 0x3f8
            assertEquals(42L, e.read(X86Register.RBX));
        }
        assertEquals("A", out.serial());
        assertEquals(List.of(0, 3), out.serialOffsets());
        assertEquals(List.of(), out.exitCodes());
    }

    @Test
    void debugExitEndsTheVmWithTheValueWritten() {
        // mov edi, 0x2a; mov eax, edi; mov dx, 0xf4; out dx, eax; hlt
        try (Machine m = Guests.builder(Guests.hex("bf2a000000 89f8 66baf400 ef f4"), new Guests.Capture()).build()) {
            VmExit exit = m.run();
            assertEquals(new VmExit.Exited(42), exit);
            assertEquals(42, exit.exitCode());
        }
    }

    @Test
    void outAndInAreExitsChargedToTheVirtualClock() {
        // out 0x80, al; in al, 0x80; hlt  (e6 80, e4 80): 3 exits, the HLT's included
        VirtualClock clock = new VirtualClock(new CostModel(0, 1000));
        try (Machine m = Guests.builder(Guests.hex("e680 e480 f4"), new Guests.Capture()).clock(clock).build()) {
            assertEquals(new VmExit.AllHalted(), m.run());
            assertEquals(3_000L, clock.nanos());
        }
    }

    /**
     * A Unicorn fact guests must respect (docs/ARCHITECTURE.md): an OUT the VMM must see (a
     * doorbell) stops the engine at the end of its block, unless a memory store follows it in the
     * same block: then the engine stops at the store. Before 2.1.4 RIP there is the block's start,
     * and resuming runs the OUT again (forever: three pauses here, and on); from 2.1.4 RIP is the
     * store, which runs once on resuming, and the doorbell rings once. A JMP right after the OUT
     * ends the block, and the doorbell rings once on every version.
     * mov dx, 0x510; out dx, eax; then jmp +0; hlt, or push rax; jmp +0; hlt.
     */
    @Test
    void aDoorbellRingsOnceWhenItsBlockEndsRightAfterIt() {
        assertEquals(List.of("paused by vCPU 0", "all vCPUs halted with nothing to wake them"),
                doorbellExits("66ba1005 ef eb00 f4"));
        if (Unicorn.get().version().syncsRipOnEveryStop()) {
            assertEquals(List.of("paused by vCPU 0", "all vCPUs halted with nothing to wake them"),
                    doorbellExits("66ba1005 ef 50 eb00 f4"));
        } else {
            assertEquals(List.of("paused by vCPU 0", "paused by vCPU 0", "paused by vCPU 0"),
                    doorbellExits("66ba1005 ef 50 eb00 f4"));
        }
    }

    /**
     * From 2.1.4, where the engine stops at a store after a doorbell with RIP at the store: each
     * doorbell of a block with stores between them rings once, each store runs once, and the
     * vCPU resumes at the store. mov dx, 0x510; out; push rax; out; push rax; out; hlt.
     */
    @Test
    void onExactRipLibrariesEachDoorbellBeforeAStoreRingsOnceAndTheStoreRunsOnce() {
        assumeTrue(Unicorn.get().version().syncsRipOnEveryStop(), "before 2.1.4 the OUT runs again (above)");
        String hex = "66ba1005 ef 50 ef 50 ef f4";
        List<Long> rips = new java.util.ArrayList<>();
        try (Machine m = Guests.builder(Guests.hex(hex), new Guests.Capture()).device(0x510, 4, PortIoDevice.doorbell())
                .onIoOut((vcpu, out) -> out.port() == 0x510 ? IoOutHandler.IoAction.PAUSE : IoOutHandler.IoAction.CONTINUE)
                .build()) {
            Engine e = m.vcpus().getFirst().engine();
            long rsp = -1;
            for (int i = 0; i < 3; i++) {
                assertEquals(new VmExit.Paused(0), m.run());
                rips.add(m.vcpus().getFirst().rip() - Guests.LOAD);
                if (i == 0) {
                    rsp = e.read(X86Register.RSP);
                }
            }
            assertEquals(new VmExit.AllHalted(), m.run());
            assertEquals(rsp - 16, e.read(X86Register.RSP), "two pushes, each once");
        }
        // Stopped at the first PUSH, at the second, then at the end of the block (the HLT).
        assertEquals(List.of(5L, 7L, 9L), rips);
    }

    private static List<String> doorbellExits(String hex) {
        List<String> exits = new java.util.ArrayList<>();
        try (Machine m = Guests.builder(Guests.hex(hex), new Guests.Capture()).device(0x510, 4, PortIoDevice.doorbell())
                .onIoOut((vcpu, out) -> out.port() == 0x510 ? IoOutHandler.IoAction.PAUSE : IoOutHandler.IoAction.CONTINUE)
                .build()) {
            for (int i = 0; i < 3; i++) {
                VmExit exit = m.run();
                exits.add(exit.describe());
                if (!(exit instanceof VmExit.Paused)) {
                    break;
                }
            }
        }
        return exits;
    }
}

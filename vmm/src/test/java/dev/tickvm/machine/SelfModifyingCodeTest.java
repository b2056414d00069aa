package dev.tickvm.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.tickvm.cpu.PatchTable;
import dev.tickvm.cpu.TrapKind;
import dev.tickvm.testing.Guests;
import org.junit.jupiter.api.Test;

/**
 * A guest that writes over a time instruction tickvm has already patched to INT 0xf0+n gets what
 * it wrote, as on hardware (issue 11.2): the old emulation ran instead, because the patch table
 * was trusted over guest memory.
 */
class SelfModifyingCodeTest {

    /** Runs the guest; returns its exit and what the patch table holds at {@code site} then. */
    private static Object[] run(String hex, int site) {
        try (Machine m = Guests.builder(Guests.hex(hex), new Guests.Capture()).build()) {
            VmExit exit = m.run();
            PatchTable.Site patched = m.patches().at(Guests.LOAD + site);
            return new Object[] {exit, patched == null ? null : patched.kind()};
        }
    }

    /**
     * Pass 1 runs RDTSC at +2 (tickvm patches it); pass 2 writes HLT there and jumps to it. The
     * guest halts; before, the patched RDTSC ran and the guest exited with 7.
     */
    @Test
    void aHltWrittenOverAPatchedRdtscHalts() {
        // xor ebx,ebx; rdtsc; test ebx,ebx; jnz done; inc ebx; mov byte [rip-15], 0xf4; jmp +2;
        // done: mov eax, 7; out 0xf4, eax
        Object[] r = run("31db 0f31 85db 750b ffc3 c605f1fffffff4 ebef b807000000 e7f4", 2);
        assertEquals(new VmExit.AllHalted(), r[0]);
        assertNull(r[1], "the site is the guest's HLT, not a patch");
    }

    /**
     * Pass 1 runs RDTSCP at +7 (patched as INT 0xf1 + NOP); pass 2 writes RDTSC over its first two
     * bytes: RDTSC then the NOP, which leave ECX (0x55) alone. Before, the RDTSCP emulation set
     * ECX to TSC_AUX, 0.
     */
    @Test
    void anRdtscWrittenOverAPatchedRdtscpLeavesEcx() {
        // mov ecx,0x55; xor ebx,ebx; rdtscp; test ebx,ebx; jnz done; inc ebx; mov ecx,0x55;
        // mov word [rip-23], 0x310f; jmp +7; done: mov eax, ecx; out 0xf4, eax
        Object[] r = run("b955000000 31db 0f01f9 85db 7512 ffc3 b955000000 66c705e9ffffff0f31 ebe7 89c8 e7f4", 7);
        assertEquals(new VmExit.Exited(0x55), r[0]);
        assertEquals(TrapKind.RDTSC, r[1], "the guest's RDTSC, patched in its turn");
    }
}

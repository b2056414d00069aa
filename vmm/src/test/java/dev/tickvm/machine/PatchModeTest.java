package dev.tickvm.machine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.tickvm.cpu.PatchTable;
import dev.tickvm.cpu.TrapKind;
import dev.tickvm.cpu.TrapMode;
import dev.tickvm.cpu.Vcpu;
import dev.tickvm.testing.Guests;
import dev.tickvm.unicorn.Engine;
import dev.tickvm.unicorn.X86Register;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What PATCH mode does to guest memory, and that the guest cannot tell it from FAULT mode. */
class PatchModeTest {
    private static final long LOAD = Guests.LOAD;

    @Test
    void rdtscAndRdtscpSitesAreRewrittenAsIntNPaddedWithNops() {
        byte[] code = Guests.hex("0f31 0f01f9 f4"); // rdtsc; rdtscp; hlt
        try (Machine m = Guests.builder(code, new Guests.Capture()).trapMode(TrapMode.PATCH).build()) {
            assertEquals(new VmExit.AllHalted(), m.run());
            assertArrayEquals(Guests.hex("cdf0 cdf190 f4"), m.memory().read(LOAD, 6));
            assertArrayEquals(code, m.patches().unpatched(m.memory(), LOAD, 6));
            assertEquals(2, m.patches().size());
            PatchTable.Site rdtsc = m.patches().at(LOAD);
            assertEquals(TrapKind.RDTSC, rdtsc.kind());
            assertArrayEquals(Guests.hex("0f31"), rdtsc.original());
            PatchTable.Site rdtscp = m.patches().at(LOAD + 2);
            assertEquals(TrapKind.RDTSCP, rdtscp.kind());
            assertArrayEquals(Guests.hex("0f01f9"), rdtscp.original());
            assertNull(m.patches().at(LOAD + 5)); // HLT is never patched
        }
    }

    @Test
    void rdmsrSiteIsRewrittenWithItsOwnVector() {
        // mov ecx, 0x10; rdmsr; hlt
        try (Machine m = Guests.builder(Guests.hex("b910000000 0f32 f4"), new Guests.Capture())
                .trapMode(TrapMode.PATCH).build()) {
            assertEquals(new VmExit.AllHalted(), m.run());
            assertArrayEquals(Guests.hex("cdf2 f4"), m.memory().read(LOAD + 5, 3));
            assertEquals(TrapKind.RDMSR, m.patches().at(LOAD + 5).kind());
        }
    }

    @Test
    void prefixedRdtscIsPatchedOverItsWholeLength() {
        byte[] code = Guests.hex("662e480f31 f4");
        try (Machine m = Guests.builder(code, new Guests.Capture()).trapMode(TrapMode.PATCH).build()) {
            assertEquals(new VmExit.AllHalted(), m.run());
            assertArrayEquals(Guests.hex("cdf0909090 f4"), m.memory().read(LOAD, 6));
            assertArrayEquals(code, m.patches().unpatched(m.memory(), LOAD, 6));
            assertEquals(LOAD + 6, m.vcpus().getFirst().rip());
        }
    }

    @Test
    void faultModeNeverTouchesGuestCode() {
        byte[] code = Guests.hex("0f31 0f01f9 b910000000 0f32 f4");
        try (Machine m = Guests.builder(code, new Guests.Capture()).trapMode(TrapMode.FAULT).build()) {
            assertEquals(new VmExit.AllHalted(), m.run());
            assertArrayEquals(code, m.memory().read(LOAD, code.length));
            assertEquals(0, m.patches().size());
            assertEquals(4L, m.vcpus().getFirst().traps());
        }
    }

    @Test
    void laterExecutionsOfAPatchedSiteGoThroughTheInterruptHook() {
        // jmp +0; mov ecx, 3; L: rdtsc; dec ecx; jnz L; hlt
        byte[] code = Guests.hex("eb00 b903000000 0f31 ffc9 75fa f4");
        try (Machine m = Guests.builder(code, new Guests.Capture()).trapMode(TrapMode.PATCH).build()) {
            assertEquals(new VmExit.AllHalted(), m.run());
            Vcpu v = m.vcpus().getFirst();
            assertEquals(4L, v.traps()); // three RDTSCs and the HLT
            assertEquals(2L, v.patchedTraps());
            assertEquals(0L, v.engine().read(X86Register.RCX));
        }
    }

    /**
     * Each register a guest can see after RDTSC and RDTSCP (with RAX, RCX, RDX preset to all ones),
     * per mode. CounterTsc has no TSC_AUX: RDTSCP returns ECX = 0.
     */
    @Test
    void faultAndPatchModesGiveIdenticalRegisterResultsForRdtscAndRdtscp() {
        // mov rax, -1; mov rdx, -1; mov rcx, -1; rdtsc; mov r8, rax; mov r9, rdx;
        // rdtscp; mov r10, rax; mov r11, rcx; mov r12, rdx; hlt
        byte[] code = Guests.hex("48c7c0ffffffff 48c7c2ffffffff 48c7c1ffffffff 0f31 4989c0 4989d1"
                + " 0f01f9 4989c2 4989cb 4989d4 f4");
        List<X86Register> visible = List.of(X86Register.RAX, X86Register.RCX, X86Register.RDX, X86Register.R8,
                X86Register.R9, X86Register.R10, X86Register.R11, X86Register.R12, X86Register.RSP);
        Map<TrapMode, List<Long>> results = new LinkedHashMap<>();
        for (TrapMode mode : TrapMode.values()) {
            try (Machine m = Guests.builder(code, new Guests.Capture()).trapMode(mode).build()) {
                assertEquals(new VmExit.AllHalted(), m.run());
                Engine e = m.vcpus().getFirst().engine();
                List<Long> values = new ArrayList<>();
                for (X86Register r : visible) {
                    values.add(e.read(r));
                }
                results.put(mode, values);
            }
        }
        assertEquals(results.get(TrapMode.FAULT), results.get(TrapMode.PATCH));
        // RDTSC: 2 blocks, 1 exit -> 3 x (4 + 50) ns; RDTSCP: 3 blocks, 2 exits -> 3 x (6 + 100) ns.
        long stack = (16L << 20);
        assertEquals(List.of(318L, 0L, 0L, 162L, 0L, 318L, 0L, 0L, stack), results.get(TrapMode.PATCH));
    }

    /**
     * Two vCPUs share one RDTSC site. With the smallest quantum, 2 blocks (the boot stub, then a
     * jump), vCPU 1 translates the block that holds the RDTSC (its block hook sees it, then stops
     * before it runs) before vCPU 0 patches the site. Its translation is then stale: at its next
     * turn it finds the site's bytes changed and drops it (CodePages), so it runs the patch, INT
     * 0xf0, all three times. (Before that check it ran the stale RDTSC, faulted, and emulated it
     * from the patch table: that path is still there, for a translation no turn start caught.)
     */
    @Test
    void vcpuWithAStaleTranslationOfAPatchedSiteStillEmulatesIt() {
        // jmp +0; mov ecx, 3; L: rdtsc; dec ecx; jnz L; hlt
        byte[] code = Guests.hex("eb00 b903000000 0f31 ffc9 75fa f4");
        try (Machine m = Guests.builder(code, new Guests.Capture()).trapMode(TrapMode.PATCH).vcpus(2).quantum(2)
                .build()) {
            assertEquals(new VmExit.AllHalted(), m.run());
            assertEquals(1, m.patches().size());
            assertArrayEquals(Guests.hex("cdf0"), m.memory().read(LOAD + 7, 2));
            for (Vcpu v : m.vcpus()) {
                assertEquals(4L, v.traps(), "traps of vCPU " + v.id());
                assertEquals(v.id() == 0 ? 2L : 3L, v.patchedTraps(), "patched traps of vCPU " + v.id());
                assertEquals(v.id() == 0 ? 0L : 1L, v.staleCodeInvalidations(), "stale code of vCPU " + v.id());
                assertEquals(LOAD + 14, v.rip(), "vCPU " + v.id() + " resumes after its HLT");
            }
        }
    }
}

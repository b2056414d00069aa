package dev.tickvm.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tickvm.testing.Guests;
import org.junit.jupiter.api.Test;

/**
 * Code written by one vCPU runs on another vCPU that had already translated the old code, as on
 * hardware (issue 11.2): each vCPU has its own Unicorn engine, and an engine only sees its own
 * stores to code it translated, so vCPU 0 kept running the old code forever.
 */
class CrossModifyingCodeTest {

    /** Runs {@code code} (hex listing) on 2 vCPUs within a budget of a million blocks. */
    private static VmExit runOnTwoVcpus(String code) {
        try (Machine m = Guests.builder(Guests.hex(code), new Guests.Capture()).vcpus(2).budget(1_000_000).build()) {
            return m.run();
        }
    }

    /**
     * vCPU 0 calls {@code f} (mov eax, 1; ret) until it returns something else, then exits with
     * it; vCPU 1 writes 2 over f's immediate and halts. vCPU 0's first turn translates f; in its
     * second it must run the new f and exit with 2. Before, it looped until the budget ran out.
     */
    @Test
    void aCalleeRewrittenByAnotherVcpuReturnsTheNewValue() {
        String code = """
                85ff            ; test edi, edi (vCPU id)
                750c            ; jnz writer
                e80f000000      ; loop: call f
                83f801          ; cmp eax, 1
                74f6            ; je loop
                e7f4            ; out 0xf4, eax
                c6050200000002  ; writer: mov byte [rip+2], 2  (f's immediate)
                f4              ; hlt
                b801000000      ; f: mov eax, 1
                c3              ; ret
                """;
        assertEquals(new VmExit.Exited(2), runOnTwoVcpus(code));
    }

    /**
     * The same with the new code written in the middle of a translated block rather than at a
     * call target: vCPU 0 spins on {@code mov eax, 1; cmp; je} in one block, vCPU 1 rewrites the
     * immediate inside that block.
     */
    @Test
    void anImmediateRewrittenInsideAnotherVcpusLoopTakesEffect() {
        String code = """
                85ff            ; test edi, edi
                750c            ; jnz writer
                b801000000      ; loop: mov eax, 1
                83f801          ; cmp eax, 1
                74f6            ; je loop
                e7f4            ; out 0xf4, eax
                c605eeffffff07  ; writer: mov byte [rip-18], 7  (loop's immediate at +5)
                f4              ; hlt
                """;
        assertEquals(new VmExit.Exited(7), runOnTwoVcpus(code));
    }

    /**
     * Data stored on a code page, turn after turn, is seen as a change there each turn and the
     * code still runs right: vCPU 1 counts in a variable on vCPU 0's code page (outside the 64
     * bytes of vCPU 0's loop) up to 300,000, then writes vCPU 0's exit code into the loop.
     */
    @Test
    void aVariableOnACodePageIsNotCode() {
        String code = """
                85ff            ; test edi, edi
                750c            ; jnz writer
                b801000000      ; loop: mov eax, 1
                83f801          ; cmp eax, 1
                74f6            ; je loop
                e7f4            ; out 0xf4, eax
                ff052a000000    ; writer: inc dword [rip+0x2a] (the counter at +0x40)
                813d20000000e0930400 ; cmp dword [rip+0x20], 300000
                75ee            ; jne writer
                c605dcffffff05  ; mov byte [rip-0x24], 5  (loop's immediate at +5)
                f4              ; hlt
                """;
        try (Machine m = Guests.builder(Guests.hex(code), new Guests.Capture()).vcpus(2).quantum(1_000)
                .budget(10_000_000).build()) {
            assertEquals(new VmExit.Exited(5), m.run());
            assertEquals(300_000, m.memory().readInt(Guests.LOAD + 0x40));
            long turns = m.vcpus().get(1).blocks() / 1_000;
            assertTrue(m.vcpus().get(0).staleCodeInvalidations() >= turns - 1,
                    "vCPU 0 saw its page change in most turns: " + m.vcpus().get(0).staleCodeInvalidations());
        }
    }

    /**
     * Past the pages a vCPU keeps copies of, every turn starts with all translations dropped,
     * and new code is still seen: vCPU 0's loop runs through a chain of 1,100 pages, each a jump
     * to the next, before it calls f.
     */
    @Test
    void codeOnMorePagesThanAreCopiedIsStillSeenNew() {
        int chain = 1_100;
        byte[] image = new byte[(chain + 2) * 4096];
        byte[] head = Guests.hex("""
                85ff            ; test edi, edi
                7511            ; jnz writer
                e9f70f0000      ; loop: jmp page 1 (+0x1000)
                e80f000000      ; back: call f
                83f801          ; cmp eax, 1
                74f1            ; je loop
                e7f4            ; out 0xf4, eax
                c6050200000003  ; writer: mov byte [rip+2], 3  (f's immediate)
                f4              ; hlt
                b801000000      ; f: mov eax, 1
                c3              ; ret
                """);
        System.arraycopy(head, 0, image, 0, head.length);
        for (int page = 1; page <= chain; page++) {
            int at = page * 4096;
            int target = page < chain ? at + 4096 : 9; // the last page jumps back to "back"
            int rel = target - (at + 5);
            image[at] = (byte) 0xe9;
            for (int i = 0; i < 4; i++) {
                image[at + 1 + i] = (byte) (rel >>> (8 * i));
            }
        }
        try (Machine m = Guests.builder(image, new Guests.Capture()).vcpus(2).memorySize(16 << 20)
                .budget(1_000_000).build()) {
            assertEquals(new VmExit.Exited(3), m.run());
            assertTrue(m.vcpus().get(0).staleCodeFlushes() >= 1);
        }
    }
}

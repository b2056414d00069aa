package dev.tickvm.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzz target for {@link TrapDecoder#decode}: any bytes give a trap or null, never an exception,
 * and a trap is at most 15 bytes, fits in the bytes it was given and is the same on a second call.
 * Plain ./test replays the inputs in TrapDecoderFuzzTestInputs/; JAZZER_FUZZ=1 fuzzes
 * (docs/TESTING.md).
 */
class TrapDecoderFuzzTest {
    @FuzzTest(maxDuration = "60s")
    void decodeGivesATrapOrNullWithinFifteenBytes(byte[] code) {
        Trap trap = TrapDecoder.decode(code);
        if (trap != null) {
            assertTrue(trap.length() >= 1 && trap.length() <= TrapDecoder.MAX_INSTRUCTION_LENGTH, trap::toString);
            assertTrue(trap.length() <= code.length, trap::toString);
            // Bytes past the instruction never change what it is.
            byte[] exact = java.util.Arrays.copyOf(code, trap.length());
            assertEquals(trap, TrapDecoder.decode(exact));
        }
        assertEquals(trap, TrapDecoder.decode(code.clone()));
    }
}

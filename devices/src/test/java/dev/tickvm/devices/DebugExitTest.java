package dev.tickvm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class DebugExitTest {
    @Test
    void writeAtOffsetZeroRequestsExitWithTheValueUnchanged() {
        DebugExit exit = new DebugExit();
        assertEquals(OptionalInt.empty(), exit.exitCode());
        assertTrue(exit.write(0, 4, 7));
        assertEquals(OptionalInt.of(7), exit.exitCode());
    }

    @Test
    void writesToOtherOffsetsAreIgnored() {
        DebugExit exit = new DebugExit();
        assertFalse(exit.write(2, 1, 1));
        assertEquals(OptionalInt.empty(), exit.exitCode());
        assertEquals(0, exit.read(0, 4));
    }
}

package dev.tickvm.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.ByteArrayOutputStream;
import org.junit.jupiter.api.Test;

class Serial16550Test {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final Serial16550 serial = new Serial16550(out::write);

    @Test
    void transmitHoldingRegisterWritesGoToTheSink() {
        for (char c : "hi\n".toCharArray()) {
            assertFalse(serial.write(0, 1, c), "serial output never needs the VMM");
        }
        assertEquals("hi\n", out.toString());
        assertEquals(3, serial.transmitted());
    }

    @Test
    void lineStatusAlwaysReportsAnIdleTransmitter() {
        assertEquals(0x60, serial.read(5, 1));
        assertEquals(0x01, serial.read(2, 1), "IIR: no interrupt pending");
    }

    @Test
    void dlabRedirectsOffsetsZeroAndOneToTheDivisorLatch() {
        serial.write(3, 1, 0x83);
        serial.write(0, 1, 0x01);
        serial.write(1, 1, 0x00);
        assertEquals("", out.toString(), "divisor writes are not output");
        assertEquals(0x01, serial.read(0, 1));
        assertEquals(0x00, serial.read(1, 1));
        serial.write(3, 1, 0x03);
        serial.write(0, 1, 'x');
        assertEquals("x", out.toString());
        assertEquals(0x03, serial.read(3, 1));
    }

    @Test
    void scratchRegisterHoldsItsValueAndOnlyTheLowByteIsTransmitted() {
        serial.write(7, 1, 0x5a);
        assertEquals(0x5a, serial.read(7, 1));
        serial.write(0, 4, 0x1234_5641);
        assertEquals("A", out.toString());
    }
}

package dev.tickvm.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PortIoBusTest {

    /** Records every access; reads return 0x100 * offset + size; flags writes of odd values. */
    private static final class Recorder implements PortIoDevice {
        final List<String> log = new ArrayList<>();

        @Override
        public int read(int offset, int size) {
            log.add("r " + offset + "/" + size);
            return 0x100 * offset + size;
        }

        @Override
        public boolean write(int offset, int size, int value) {
            log.add("w " + offset + "/" + size + "=" + value);
            return (value & 1) != 0;
        }
    }

    @Test
    void unclaimedPortsReadAllOnesForEachSize() {
        PortIoBus bus = new PortIoBus();
        assertEquals(0xff, bus.read(0x80, 1));
        assertEquals(0xffff, bus.read(0x80, 2));
        assertEquals(-1, bus.read(0x80, 4)); // 0xffffffff
    }

    @Test
    void unclaimedPortWritesAreDroppedAndNotFlagged() {
        PortIoBus bus = new PortIoBus();
        assertFalse(bus.write(0x80, 1, 1));
    }

    @Test
    void deviceSeesOffsetsRelativeToItsBase() {
        PortIoBus bus = new PortIoBus();
        Recorder serial = new Recorder();
        bus.register(0x3f8, 8, serial);
        assertEquals(0x502, bus.read(0x3fd, 2));
        assertEquals(0x001, bus.read(0x3f8, 1));
        assertTrue(bus.write(0x3ff, 4, 7));
        assertFalse(bus.write(0x3f8, 1, 'B'));
        assertEquals(List.of("r 5/2", "r 0/1", "w 7/4=7", "w 0/1=66"), serial.log);
    }

    @Test
    void portsJustOutsideARangeAreUnclaimed() {
        PortIoBus bus = new PortIoBus();
        Recorder d = new Recorder();
        bus.register(0x3f8, 8, d);
        assertEquals(0xff, bus.read(0x3f7, 1));
        assertEquals(0xff, bus.read(0x400, 1));
        assertEquals(List.of(), d.log);
    }

    @Test
    void adjacentRangesRouteToTheirOwnDevice() {
        PortIoBus bus = new PortIoBus();
        Recorder low = new Recorder();
        Recorder high = new Recorder();
        bus.register(0x60, 4, low);
        bus.register(0x64, 1, high);
        assertEquals(0x301, bus.read(0x63, 1));
        assertEquals(0x001, bus.read(0x64, 1));
        assertEquals(List.of("r 3/1"), low.log);
        assertEquals(List.of("r 0/1"), high.log);
    }

    @Test
    void overlappingRegistrationsAreRejected() {
        PortIoBus bus = new PortIoBus();
        bus.register(0x3f8, 8, new Recorder());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> bus.register(0x3fc, 2, new Recorder()));
        assertEquals("ports 0x3fc+2 overlap a device at 0x3f8", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> bus.register(0x3f0, 9, new Recorder()));
        assertEquals("ports 0x3f0+9 overlap a device at 0x3f8", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> bus.register(0x300, 0x200, new Recorder()));
        assertEquals("ports 0x300+512 overlap a device at 0x3f8", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> bus.register(0x3f8, 8, new Recorder()));
        assertEquals("ports 0x3f8+8 overlap a device at 0x3f8", e.getMessage());
    }

    @Test
    void rejectedRegistrationLeavesTheBusUnchanged() {
        PortIoBus bus = new PortIoBus();
        Recorder first = new Recorder();
        bus.register(0x70, 2, first);
        assertThrows(IllegalArgumentException.class, () -> bus.register(0x6f, 2, new Recorder()));
        assertEquals(0xff, bus.read(0x6f, 1));
        assertEquals(0x101, bus.read(0x71, 1));
        assertEquals(List.of("r 1/1"), first.log);
    }

    @Test
    void rangesOutsideThePortSpaceAreRejected() {
        PortIoBus bus = new PortIoBus();
        assertEquals("bad port range 0xffff+2",
                assertThrows(IllegalArgumentException.class, () -> bus.register(0xffff, 2, new Recorder())).getMessage());
        assertEquals("bad port range 0x10+0",
                assertThrows(IllegalArgumentException.class, () -> bus.register(0x10, 0, new Recorder())).getMessage());
        assertEquals("bad port range 0xffffffff+1",
                assertThrows(IllegalArgumentException.class, () -> bus.register(-1, 1, new Recorder())).getMessage());
        bus.register(0xffff, 1, new Recorder());
        assertEquals(1, bus.read(0xffff, 1));
    }
}
